package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
)

// TestAuditAnchorCatchesDeletedTailFromTheCommandLine: `audit anchor`
// writes the head to DATA_DIR/anchors; after the triggers are dropped and
// the last entries deleted, `audit verify` fails and says which entries
// went; `audit export` writes an export `audit verify-export` accepts.
func TestAuditAnchorCatchesDeletedTailFromTheCommandLine(t *testing.T) {
	dbc := dbtest.New(t)
	ge := env(t, dbc)
	runCmd(t, ge, "migrate", "up")
	code, out, _ := runCmd(t, ge, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit chain OK: 0 entries") {
		t.Fatalf("fresh: %d %q", code, out)
	}
	for _, e := range []string{"a@hospital.test", "b@hospital.test", "c@hospital.test", "d@hospital.test"} {
		if c, _, errs := runCmd(t, ge, "user", "create", "--email", e, "--name", "N", "--role", "reviewer"); c != 0 {
			t.Fatal(errs)
		}
	}
	code, out, errs := runCmd(t, ge, "audit", "anchor")
	if code != 0 || !strings.Contains(out, "anchored entry 4") {
		t.Fatalf("anchor: %d %q %q", code, out, errs)
	}
	files, _ := filepath.Glob(filepath.Join(ge("STORYKEEP_DATA_DIR"), "anchors", "*.json"))
	if len(files) != 1 {
		t.Fatalf("anchor files: %v", files)
	}
	code, out, _ = runCmd(t, ge, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit chain OK: 4 entries") || !strings.Contains(out, "the latest at entry 4") {
		t.Fatalf("verify: %d %q", code, out)
	}
	export := filepath.Join(t.TempDir(), "audit.jsonl")
	if code, out, errs = runCmd(t, ge, "audit", "export", "--since", "2000-01-01", "--out", export); code != 0 || !strings.Contains(out, "exported 4 entries") {
		t.Fatalf("export: %d %q %q", code, out, errs)
	}
	if code, out, errs = runCmd(t, ge, "audit", "verify-export", export); code != 0 || !strings.Contains(out, "export OK: 4 entries") {
		t.Fatalf("verify-export: %d %q %q", code, out, errs)
	}
	b, _ := os.ReadFile(export)
	if err := os.WriteFile(export+".2", []byte(strings.Replace(string(b), `"action":"user.create"`, `"action":"user.deleted"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = runCmd(t, ge, "audit", "verify-export", export+".2"); code != 1 || !strings.Contains(errs, "does NOT verify") {
		t.Fatalf("altered export: %d %q", code, errs)
	}

	// An entry recorded outside a running server waits unlinked: verify
	// says so, and fails on it only when asked to.
	gdb := openForTest(t, dbc)
	if err := audit.New(gdb).Record(context.Background(), nil, audit.Entry{Action: "x.y", ObjectType: "x"}); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = runCmd(t, ge, "audit", "verify"); code != 0 || !strings.Contains(out, "unlinked: 1 entries waiting to be linked") {
		t.Fatalf("unlinked entry: %d %q", code, out)
	}
	if code, out, _ = runCmd(t, ge, "audit", "verify", "--max-unlinked-age=1ns"); code != 1 || !strings.Contains(out, "is the chainer running?") {
		t.Fatalf("unlinked entry past its age: %d %q", code, out)
	}
	if code, out, _ = runCmd(t, ge, "audit", "link"); code != 0 || !strings.Contains(out, "linked 1 entries") {
		t.Fatalf("link: %d %q", code, out)
	}
	drop := []string{"DROP TRIGGER audit_log_no_delete"}
	if dbc.Driver == "postgres" {
		drop = []string{"DROP TRIGGER audit_log_no_update ON audit_log"}
	}
	for _, s := range append(drop, "DELETE FROM audit_log WHERE seq >= 3") {
		if err := gdb.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs = runCmd(t, ge, "audit", "verify")
	if code != 1 || !strings.Contains(out, "PROBLEM (tail) at entry 4") || !strings.Contains(out, "entries 3 to 4 were removed") || !strings.Contains(errs, "audit chain BROKEN at entry 4") {
		t.Fatalf("deleted tail: %d %q %q", code, out, errs)
	}
}
