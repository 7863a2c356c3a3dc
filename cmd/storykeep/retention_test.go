package main

import (
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/dbtest"
)

// TestRetentionCommands: list and purge report on an empty database, purge
// without --yes deletes nothing, and a hold needs an existing subject and a
// reason (the service tests in app/web cover holds and purges end to end).
func TestRetentionCommands(t *testing.T) {
	ge := env(t, dbtest.New(t), "STORYKEEP_RETENTION_YEARS", "7")
	runCmd(t, ge, "migrate", "up")
	if code, out, errs := runCmd(t, ge, "retention", "list"); code != 0 || !strings.Contains(out, "0 past retention (7 years) may be purged; 0 kept by a legal hold") {
		t.Fatalf("list: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCmd(t, ge, "retention", "purge"); code != 0 || !strings.Contains(out, "run again with --yes") {
		t.Fatalf("purge without --yes: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCmd(t, ge, "retention", "purge", "--yes"); code != 0 || !strings.Contains(out, "0 purged") {
		t.Fatalf("purge: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCmd(t, ge, "retention", "hold", "--story", "missing", "--reason", "Matter 1"); code != 1 || !strings.Contains(errs, "There is no story") {
		t.Fatalf("hold on a missing story: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, ge, "retention", "hold", "--story", "missing"); code != 1 || !strings.Contains(errs, "Say why") {
		t.Fatalf("hold without a reason: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, ge, "retention", "lift", "nope"); code != 1 || !strings.Contains(errs, "no active legal hold") {
		t.Fatalf("lift unknown: %d %q", code, errs)
	}
}
