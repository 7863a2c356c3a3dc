package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

// TestBackupRestoreRoundTrip: a backup of a running SQLite instance (demo
// stories, users, audit chain, a photo in the media store, the generated
// data key) restores into an empty data directory; the restored instance
// passes audit verify and media check, has the same rows, opens the sealed
// patient details with the restored key, and serves the same public pages.
// A changed file or a non-empty target is refused.
func TestBackupRestoreRoundTrip(t *testing.T) {
	if dbtest.Driver() != "sqlite" {
		t.Log("backup and restore copy SQLite; on PostgreSQL they refuse (checked below) and docs/backup.md says what to use")
	}
	src := t.TempDir()
	srcEnv := func(k string) string {
		return map[string]string{"STORYKEEP_DATA_DIR": src}[k]
	}
	if dbtest.Driver() != "sqlite" {
		ge := env(t, dbtest.New(t))
		code, _, errs := runCmd(t, ge, "backup", filepath.Join(t.TempDir(), "b"))
		if code == 0 || !strings.Contains(errs, "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %d %q", code, errs)
		}
		return
	}
	if code, out, errs := runCmd(t, srcEnv, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s %s", out, errs)
	}
	if code, out, errs := runCmd(t, srcEnv, "demo", "--stories", "12", "--no-showcase"); code != 0 {
		t.Fatalf("demo: %s %s", out, errs)
	}
	// A photo: its object in the store and its row.
	gdb := openForTest(t, config.DB{Driver: "sqlite", DSN: filepath.Join(src, "storykeep.db")})
	var story models.Story
	if err := gdb.Take(&story).Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	key := "media/story/" + story.ID + "/photo1"
	obj := filepath.Join(src, "media", filepath.FromSlash(key))
	os.MkdirAll(filepath.Dir(obj), 0o700)
	os.WriteFile(obj, []byte("jpeg bytes"), 0o600)
	asset := models.MediaAsset{ID: "photo1", OwnerType: models.OwnerStory, OwnerID: story.ID, Kind: "image", ContentType: "image/jpeg",
		StorageKey: key, SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte("jpeg bytes"))), AltText: "a garden", RenditionsState: "ready", UploadedBy: story.OwnerID, CreatedAt: now, UpdatedAt: now}
	if err := gdb.Create(&asset).Error; err != nil {
		t.Fatal(err)
	}

	bdir := filepath.Join(t.TempDir(), "backup")
	code, out, errs := runCmd(t, srcEnv, "backup", bdir)
	if code != 0 || !strings.Contains(out, "1 media object(s), 3 key file(s)") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "-c", "--quiet", "SHA256SUMS")
		cmd.Dir = bdir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v %s", err, b)
		}
	}

	dst := t.TempDir()
	dstEnv := func(k string) string {
		return map[string]string{"STORYKEEP_DATA_DIR": dst}[k]
	}
	if code, out, errs := runCmd(t, dstEnv, "restore", bdir); code != 0 {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCmd(t, dstEnv, "audit", "verify"); code != 0 || !strings.Contains(out, "audit chain OK") {
		t.Fatalf("audit verify after restore: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCmd(t, dstEnv, "media", "check"); code != 0 || !strings.Contains(out, "checked 1 asset(s)") {
		t.Fatalf("media check after restore: %d %q %q", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "keys", "data.key")); err != nil || len(b) == 0 {
		t.Fatalf("data key not restored: %v", err)
	}
	dgdb := openForTest(t, config.DB{Driver: "sqlite", DSN: filepath.Join(dst, "storykeep.db")})
	for _, table := range []string{"users", "patients", "stories", "audit_log", "media_assets"} {
		var a, b int64
		gdb.Table(table).Count(&a)
		dgdb.Table(table).Count(&b)
		if a != b || a == 0 {
			t.Errorf("%s: %d rows before, %d after", table, a, b)
		}
	}
	// Same public pages, and the restored key opens the sealed patient details.
	pages := func(dir string) map[string]string {
		cfg, err := config.Load(nil, func(k string) string { return map[string]string{"STORYKEEP_DATA_DIR": dir}[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, app.NewLogger(cfg, io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		got := map[string]string{}
		for _, p := range []string{"/p", "/sitemap.xml", "/feed.atom", "/feed.json"} {
			rec := httptest.NewRecorder()
			a.Web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
			got[p] = rec.Result().Status + "\n" + rec.Body.String()
		}
		var p models.Patient
		if err := a.DB.Take(&p).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := a.Patients.Get(context.Background(), p.ID); err != nil {
			t.Fatalf("patient %s does not open with the data key in %s: %v", p.ID, dir, err)
		}
		return got
	}
	before, after := pages(src), pages(dst)
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s differs after restore:\n%s\n---\n%s", p, b, after[p])
		}
	}

	// Restoring over data, or a changed backup, is refused.
	if code, _, errs := runCmd(t, dstEnv, "restore", bdir); code == 0 || !strings.Contains(errs, "exists") {
		t.Fatalf("restore over an existing database: %d %q", code, errs)
	}
	os.WriteFile(filepath.Join(bdir, "media", filepath.FromSlash(key)), []byte("changed"), 0o600)
	empty := t.TempDir()
	code, _, errs = runCmd(t, func(k string) string { return map[string]string{"STORYKEEP_DATA_DIR": empty}[k] }, "restore", bdir)
	if code == 0 || !strings.Contains(errs, "does not match its SHA-256") {
		t.Fatalf("a damaged backup was restored: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, srcEnv, "backup", bdir); code == 0 || !strings.Contains(errs, "not empty") {
		t.Fatalf("backup into a non-empty directory: %d %q", code, errs)
	}
}
