package main

import (
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
)

// TestConfigReportsObjectLock: `storykeep config` says whether evidence is
// write-once: local read-only files, an Object Lock bucket in the
// configured mode, or a bucket without Object Lock. `retention lock`
// refuses when there is nothing to lock with.
func TestConfigReportsObjectLock(t *testing.T) {
	dbc := dbtest.New(t)
	runCmd(t, env(t, dbc), "migrate", "up")
	if code, out, errs := runCmd(t, env(t, dbc), "config"); code != 0 || !strings.Contains(out, "# write-once evidence (object lock): active (local)") {
		t.Fatalf("local: %d %q %q", code, out, errs)
	}
	s3env := func(cfg storage.S3Config, extra ...string) func(string) string {
		return env(t, dbc, append([]string{"STORYKEEP_MEDIA_BACKEND", "s3", "STORYKEEP_S3_ENDPOINT", cfg.Endpoint, "STORYKEEP_S3_BUCKET", cfg.Bucket,
			"STORYKEEP_S3_ACCESS_KEY", cfg.AccessKey, "STORYKEEP_S3_SECRET_KEY", cfg.SecretKey, "STORYKEEP_S3_TLS", "false"}, extra...)...)
	}
	locked := miniotest.StartLocked(t)
	if code, out, errs := runCmd(t, s3env(locked), "config"); code != 0 || !strings.Contains(out, "# write-once evidence (object lock): active (compliance)") {
		t.Fatalf("lock bucket: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCmd(t, s3env(locked, "STORYKEEP_S3_LOCK_MODE", "governance"), "config"); code != 0 || !strings.Contains(out, "active (governance)") {
		t.Fatalf("governance: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCmd(t, s3env(locked, "STORYKEEP_S3_LOCK_MODE", "loose"), "config"); code != 1 || !strings.Contains(errs, "STORYKEEP_S3_LOCK_MODE") {
		t.Fatalf("bad mode not named: %d %q", code, errs)
	}
	if code, out, errs := runCmd(t, s3env(locked), "retention", "lock"); code != 0 || !strings.Contains(out, "evidence of 0 consent record(s) retained write-once (compliance)") {
		t.Fatalf("retention lock: %d %q %q", code, out, errs)
	}
	plain := miniotest.Start(t)
	if code, out, errs := runCmd(t, s3env(plain), "config"); code != 0 || !strings.Contains(out, "not active: bucket has no Object Lock") {
		t.Fatalf("plain bucket: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCmd(t, s3env(plain), "retention", "lock"); code != 1 || !strings.Contains(errs, "no Object Lock") {
		t.Fatalf("retention lock without Object Lock: %d %q", code, errs)
	}
}
