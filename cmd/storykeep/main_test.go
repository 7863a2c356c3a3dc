package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env returns a getenv over a fresh database and data directory.
func env(t *testing.T, dbc config.DB, extra ...string) func(string) string {
	t.Helper()
	vals := map[string]string{"STORYKEEP_DATA_DIR": t.TempDir()}
	if dbc.Driver == "postgres" {
		vals["STORYKEEP_DATABASE_URL"] = dbc.DSN
	} else {
		vals["STORYKEEP_DATABASE_URL"] = "sqlite:" + dbc.DSN
	}
	for i := 0; i+1 < len(extra); i += 2 {
		vals[extra[i]] = extra[i+1]
	}
	return func(k string) string { return vals[k] }
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func runCmd(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuf
	code := run(context.Background(), args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMigrateUpAndStatus(t *testing.T) {
	ge := env(t, dbtest.NewEmpty(t))
	code, out, _ := runCmd(t, ge, "migrate", "status")
	if code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status on empty db: %d %q", code, out)
	}
	code, out, errs := runCmd(t, ge, "migrate", "up")
	if code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("migrate up: %d %q %q", code, out, errs)
	}
	_, out, _ = runCmd(t, ge, "migrate", "status")
	if strings.Contains(out, "pending") || !strings.Contains(out, "00001_foundation.sql") {
		t.Fatalf("status after up: %q", out)
	}
	if code, out, _ = runCmd(t, ge, "migrate", "up"); code != 0 || !strings.Contains(out, "applied 0") {
		t.Fatalf("second up should apply nothing: %q", out)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dbc := dbtest.NewEmpty(t)
	ge := env(t, dbc)
	if code, _, errs := runCmd(t, ge, "migrate", "up"); code != 0 {
		t.Fatal(errs)
	}
	gdb := openForTest(t, dbc)
	if err := gdb.Exec("INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (99999, TRUE, CURRENT_TIMESTAMP)").Error; err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate", "up"}, {"user", "create", "--email", "a@b.test", "--name", "A", "--role", "admin"}, {"audit", "verify"}} {
		code, _, errs := runCmd(t, ge, args...)
		if code == 0 || !strings.Contains(errs, "newer than this Storykeep") || !strings.Contains(errs, "99999") {
			t.Fatalf("%v: want refusal naming the version, got %d %q", args, code, errs)
		}
	}
}

func TestUserCreateSetRoleAndErrors(t *testing.T) {
	ge := env(t, dbtest.New(t))
	runCmd(t, ge, "migrate", "up")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("a long enough password\n"), 0o600)
	code, out, errs := runCmd(t, ge, "user", "create", "--email", "Teller@Hospital.test", "--name", "Tess Teller", "--role", "storyteller", "--password-file", pwFile)
	if code != 0 || !strings.Contains(out, "created teller@hospital.test (storyteller)") || strings.Contains(out, "temporary password") {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	code, out, _ = runCmd(t, ge, "user", "create", "--email", "rev@hospital.test", "--name", "Rev", "--role", "reviewer")
	if code != 0 || !strings.Contains(out, "temporary password: ") {
		t.Fatalf("generated password not printed: %q", out)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"user", "create", "--email", "x@hospital.test", "--name", "X", "--role", "boss"}, "Choose one of: admin, storyteller, reviewer, publisher"},
		{[]string{"user", "create", "--email", "teller@hospital.test", "--name", "Dup", "--role", "admin", "--password-file", pwFile}, "already exists"},
		{[]string{"user", "create", "--email", "bad", "--name", "X", "--role", "admin"}, "Enter an email address"},
		{[]string{"user", "set-role", "--email", "nobody@hospital.test", "--role", "admin"}, "No user has that email."},
		{[]string{"user", "set-role", "--email", "teller@hospital.test", "--role", "emperor"}, "Choose one of"},
		{[]string{"user", "frobnicate"}, "unknown user command"},
	}
	for _, c := range cases {
		code, _, errs := runCmd(t, ge, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: want error %q, got %d %q", c.args, c.want, code, errs)
		}
	}
	code, out, _ = runCmd(t, ge, "user", "set-role", "--email", "teller@hospital.test", "--role", "publisher")
	if code != 0 || !strings.Contains(out, "is now publisher") {
		t.Fatalf("set-role: %q", out)
	}
}

func TestAuditVerifyPassesThenDetectsEdit(t *testing.T) {
	dbc := dbtest.New(t)
	ge := env(t, dbc)
	runCmd(t, ge, "migrate", "up")
	code, out, _ := runCmd(t, ge, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit chain OK: 0 entries") {
		t.Fatalf("fresh database: %d %q", code, out)
	}
	for _, e := range []string{"a@hospital.test", "b@hospital.test", "c@hospital.test"} {
		if c, _, errs := runCmd(t, ge, "user", "create", "--email", e, "--name", "N", "--role", "reviewer"); c != 0 {
			t.Fatal(errs)
		}
	}
	code, out, _ = runCmd(t, ge, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit chain OK: 3 entries") {
		t.Fatalf("after writes: %d %q", code, out)
	}
	gdb := openForTest(t, dbc)
	drop := []string{"DROP TRIGGER audit_log_no_update"}
	if dbc.Driver == "postgres" {
		drop = []string{"DROP TRIGGER audit_log_no_update ON audit_log"}
	}
	for _, s := range append(drop, "UPDATE audit_log SET details = '{\"role\":\"admin\"}' WHERE seq = 2") {
		if err := gdb.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	code, _, errs := runCmd(t, ge, "audit", "verify")
	if code != 1 || !strings.Contains(errs, "audit chain BROKEN at entry 2") || !strings.Contains(errs, "1 entries before it verified") {
		t.Fatalf("edited row not detected: %d %q", code, errs)
	}
}

func TestConfigRedactsSecretsAndNamesBadSettings(t *testing.T) {
	ge := env(t, dbtest.New(t), "STORYKEEP_S3_SECRET_KEY", "super-secret-value", "STORYKEEP_LOG_LEVEL", "debug")
	code, out, _ := runCmd(t, ge, "config")
	if code != 0 || strings.Contains(out, "super-secret-value") || !strings.Contains(out, "STORYKEEP_S3_SECRET_KEY=(set, redacted)") || !strings.Contains(out, "STORYKEEP_LOG_LEVEL=debug") {
		t.Fatalf("%q", out)
	}
	if strings.Contains(out, "sqlite:") || strings.Contains(out, "postgres://") {
		t.Fatal("database URL may hold a password and must be redacted")
	}
	code, out, _ = runCmd(t, ge, "config", "--log-level", "warn")
	if code != 0 || !strings.Contains(out, "STORYKEEP_LOG_LEVEL=warn") {
		t.Fatalf("flag should override env: %q", out)
	}
	code, _, errs := runCmd(t, env(t, dbtest.New(t), "STORYKEEP_LISTEN", "8080"), "config")
	if code != 1 || !strings.Contains(errs, "STORYKEEP_LISTEN") {
		t.Fatalf("bad setting not named: %q", errs)
	}
	if code, _, errs := runCmd(t, ge, "nonsense"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("%d %q", code, errs)
	}
	if code, out, _ := runCmd(t, ge, "version"); code != 0 || !strings.HasPrefix(out, "storykeep ") {
		t.Fatalf("version: %q", out)
	}
}

// TestServePrintsFirstPasswordOnceAndShutsDown runs `storykeep serve` twice
// on the same data: the first start creates the admin and prints its
// password; the second prints nothing of the kind. Both stop cleanly when
// their context is cancelled (as on SIGTERM).
func TestServePrintsFirstPasswordOnceAndShutsDown(t *testing.T) {
	ge := env(t, dbtest.New(t), "STORYKEEP_LISTEN", "127.0.0.1:0")
	// As in a container with 512 MiB: serve sets the Go memory limit.
	old := readCgroup
	readCgroup = func(p string) ([]byte, error) {
		if p == "/sys/fs/cgroup/memory.max" {
			return []byte("536870912\n"), nil
		}
		return nil, os.ErrNotExist
	}
	t.Cleanup(func() { readCgroup = old; debug.SetMemoryLimit(math.MaxInt64) })
	for i, wantPassword := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb syncBuf
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"serve"}, ge, &out, &errb) }()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(errb.String(), "storykeep listening") {
			if time.Now().After(deadline) {
				t.Fatalf("start %d: server did not start: %s", i, errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := debug.SetMemoryLimit(-1); got != 429496728 {
			t.Fatalf("start %d: Go memory limit %d, want 80%% of the container's 512 MiB", i, got)
		}
		addr := errb.String()[strings.Index(errb.String(), "addr=")+5:]
		addr = strings.Fields(addr)[0]
		code, hout, herr := runCmd(t, env(t, dbtest.New(t), "STORYKEEP_LISTEN", addr), "healthcheck")
		if code != 0 || !strings.Contains(hout, "ready") {
			t.Fatalf("healthcheck against a running server: %d %q %q", code, hout, herr)
		}
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("start %d: exit %d: %s", i, code, errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("server did not shut down")
		}
		got := strings.Contains(out.String(), "Password: ")
		if got != wantPassword {
			t.Fatalf("start %d: password printed=%v, want %v: %q", i, got, wantPassword, out.String())
		}
		if strings.Contains(errb.String(), "Password") {
			t.Fatal("the password must never go to the log")
		}
		if !strings.Contains(errb.String(), "stopped") {
			t.Fatalf("no graceful stop logged: %s", errb.String())
		}
		if code, _, herr := runCmd(t, env(t, dbtest.New(t), "STORYKEEP_LISTEN", addr), "healthcheck"); code == 0 || !strings.Contains(herr, "not ready") {
			t.Fatalf("healthcheck against a stopped server must fail: %d %q", code, herr)
		}
	}
}

func TestMediaCheckFindsAndFixesOrphans(t *testing.T) {
	ge := env(t, dbtest.New(t))
	runCmd(t, ge, "migrate", "up")
	if code, out, errs := runCmd(t, ge, "media", "check"); code != 0 || !strings.Contains(out, "checked 0 asset(s)") {
		t.Fatalf("empty store: %d %q %q", code, out, errs)
	}
	orphan := filepath.Join(ge("STORYKEEP_DATA_DIR"), "media", "media", "story", "s1", "lost")
	os.MkdirAll(filepath.Dir(orphan), 0o700)
	os.WriteFile(orphan, []byte("x"), 0o600)
	code, out, errs := runCmd(t, ge, "media", "check")
	if code != 1 || !strings.Contains(out, "object without row: media/story/s1/lost") || !strings.Contains(errs, "--fix") {
		t.Fatalf("orphan not reported: %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd(t, ge, "media", "check", "--fix")
	if code != 0 || !strings.Contains(out, "removed 1 orphan object(s)") {
		t.Fatalf("fix: %d %q", code, out)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatal("orphan still on disk")
	}
}

// TestMediaCheckFindsChangedBytes: a stored object whose bytes no longer
// hash to the recorded SHA-256 is reported, audited and fails the check.
func TestMediaCheckFindsChangedBytes(t *testing.T) {
	dbc := dbtest.New(t)
	ge := env(t, dbc)
	runCmd(t, ge, "migrate", "up")
	gdb, err := db.Open(dbc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(ge("STORYKEEP_DATA_DIR"), "media", "media", "story", "s1", "a1")
	os.MkdirAll(filepath.Dir(file), 0o700)
	os.WriteFile(file, []byte("good"), 0o600)
	sum := sha256.Sum256([]byte("good"))
	now := time.Now().UTC()
	if err := gdb.Create(&models.User{ID: "u1", Email: "u1@h.test", Name: "U", Role: models.RoleStoryteller, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&models.MediaAsset{ID: "a1", OwnerType: "story", OwnerID: "s1", Kind: "image", StorageKey: "media/story/s1/a1",
		SHA256: hex.EncodeToString(sum[:]), RenditionsState: "ready", UploadedBy: "u1", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCmd(t, ge, "media", "check"); code != 0 {
		t.Fatalf("intact store: %d %q %q", code, out, errs)
	}
	os.WriteFile(file, []byte("evil"), 0o600)
	code, out, errs := runCmd(t, ge, "media", "check")
	if code != 1 || !strings.Contains(out, "checksum mismatch: asset a1") || !strings.Contains(errs, "SHA-256") {
		t.Fatalf("changed bytes not reported: %d %q %q", code, out, errs)
	}
	var n int64
	gdb.Model(&models.AuditEntry{}).Where("action = ?", "media.tampered").Count(&n)
	if n != 1 {
		t.Fatalf("media.tampered audited %d times", n)
	}
}

// TestDemoSeedsListableStories: `storykeep demo` (here without the staged
// showcase, as the load test can run it) writes patients and stories
// through the services (tags, channels and their member bits included) so
// the load test measures the real data; a bad count is refused.
func TestDemoSeedsListableStories(t *testing.T) {
	dbc := dbtest.NewEmpty(t)
	ge := env(t, dbc)
	if code, out, errs := runCmd(t, ge, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s %s", out, errs)
	}
	code, out, errs := runCmd(t, ge, "demo", "--stories", "40", "--no-showcase")
	if code != 0 || !strings.Contains(out, "Created 40 demo stories") {
		t.Fatalf("demo: %d %q %q", code, out, errs)
	}
	gdb, err := db.Open(dbc)
	if err != nil {
		t.Fatal(err)
	}
	var n, unbitted int64
	gdb.Raw("SELECT count(*) FROM stories").Scan(&n)
	gdb.Raw("SELECT count(*) FROM stories WHERE tag_bits = 0 OR channel_bits = 0").Scan(&unbitted)
	if n != 40 || unbitted != 0 {
		t.Fatalf("%d stories, %d without member bits", n, unbitted)
	}
	// About four stories per patient, every story about a stored patient.
	var pats, used, orphans int64
	gdb.Raw("SELECT count(*) FROM patients").Scan(&pats)
	gdb.Raw("SELECT count(DISTINCT patient_id) FROM stories").Scan(&used)
	gdb.Raw("SELECT count(*) FROM stories WHERE patient_id NOT IN (SELECT id FROM patients)").Scan(&orphans)
	if pats != 10 || used < 6 || orphans != 0 {
		t.Fatalf("%d patients, %d with stories, %d stories without their patient", pats, used, orphans)
	}
	if code, _, errs := runCmd(t, ge, "demo", "--stories", "zero"); code == 0 || !strings.Contains(errs, "--stories") {
		t.Fatalf("a bad count was accepted: %d %q", code, errs)
	}
}

// TestServeMemoryLimit: serve caps the Go heap at 80% of a container's
// memory (cgroup v2 or v1), and leaves it alone without a limit or when
// GOMEMLIMIT is set.
func TestServeMemoryLimit(t *testing.T) {
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if v, ok := m[p]; ok {
				return []byte(v), nil
			}
			return nil, os.ErrNotExist
		}
	}
	none := func(string) string { return "" }
	for _, c := range []struct {
		name  string
		files map[string]string
		env   func(string) string
		want  int64
	}{
		{"cgroup v2", map[string]string{"/sys/fs/cgroup/memory.max": "536870912\n"}, none, 429496728},
		{"cgroup v2 without a limit", map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, none, 0},
		{"cgroup v1", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n"}, none, 858993456},
		{"cgroup v1 without a limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, none, 0},
		{"no cgroup files", nil, none, 0},
		{"GOMEMLIMIT set", map[string]string{"/sys/fs/cgroup/memory.max": "536870912\n"}, func(k string) string {
			if k == "GOMEMLIMIT" {
				return "300MiB"
			}
			return ""
		}, 0},
	} {
		if got := serveMemoryLimit(c.env, files(c.files)); got != c.want {
			t.Errorf("%s: limit %d, want %d", c.name, got, c.want)
		}
	}
}
