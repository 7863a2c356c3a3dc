package storage_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
)

func rootClient(t *testing.T, cfg storage.S3Config) *minio.Client {
	t.Helper()
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	must(t, err)
	return c
}

func versionBytes(t *testing.T, c *minio.Client, bucket, key, version string) string {
	t.Helper()
	o, err := c.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{VersionID: version})
	must(t, err)
	defer o.Close()
	b, err := io.ReadAll(o)
	must(t, err)
	return string(b)
}

// TestS3ObjectLockEvidenceSurvives is issue 24's "an Object Lock evidence
// object survives a delete attempt through the S3 API": with the app's own
// root credentials, in compliance mode, neither Storykeep's store nor the
// raw S3 API (version id, governance bypass) deletes or overwrites it
// before its date.
func TestS3ObjectLockEvidenceSurvives(t *testing.T) {
	cfg := miniotest.StartLocked(t)
	s, err := storage.NewS3(t.Context(), cfg)
	must(t, err)
	if w := s.WriteOnce(t.Context()); !w.Active || w.Mode != storage.ModeCompliance {
		t.Fatalf("WriteOnce = %+v, want active compliance (the default)", w)
	}
	const key = "consents/r1/signature.png"
	put(t, s, key, "signature bytes", "image/png")
	until := time.Now().Add(6 * 365 * 24 * time.Hour).UTC().Truncate(time.Second)
	must(t, s.Retain(t.Context(), key, until))
	got, err := s.RetainedUntil(t.Context(), key)
	must(t, err)
	if !got.Equal(until) {
		t.Fatalf("RetainedUntil = %v, want %v", got, until)
	}
	// Shortening is ignored (compliance forbids it); extending works.
	must(t, s.Retain(t.Context(), key, until.Add(-24*time.Hour)))
	if got, _ := s.RetainedUntil(t.Context(), key); !got.Equal(until) {
		t.Fatalf("after a shorter Retain: %v, want %v kept", got, until)
	}
	until = until.Add(48 * time.Hour)
	must(t, s.Retain(t.Context(), key, until))
	if got, _ := s.RetainedUntil(t.Context(), key); !got.Equal(until) {
		t.Fatalf("after a longer Retain: %v, want %v", got, until)
	}

	// Storykeep's own store refuses.
	wantErr(t, s.Delete(t.Context(), key), storage.ErrRetained, "store delete")
	_, err = s.Put(t.Context(), key, strings.NewReader("forged"), 6, "image/png")
	wantErr(t, err, storage.ErrRetained, "store overwrite")

	// The raw S3 API with the same (root) credentials.
	c := rootClient(t, cfg)
	st, err := c.StatObject(t.Context(), cfg.Bucket, key, minio.StatObjectOptions{})
	must(t, err)
	v1 := st.VersionID
	if v1 == "" {
		t.Fatal("no version id: the bucket is not versioned")
	}
	mode, ru, err := c.GetObjectRetention(t.Context(), cfg.Bucket, key, v1)
	must(t, err)
	if *mode != minio.Compliance || !ru.Equal(until) {
		t.Fatalf("GetObjectRetention = %v %v", *mode, ru)
	}
	for _, opts := range []minio.RemoveObjectOptions{{VersionID: v1}, {VersionID: v1, GovernanceBypass: true}} {
		if err := c.RemoveObject(t.Context(), cfg.Bucket, key, opts); err == nil {
			t.Fatalf("RemoveObject(%+v) deleted a compliance-locked version", opts)
		}
	}
	short := until.Add(-time.Hour)
	gov := minio.Governance
	if err := c.PutObjectRetention(t.Context(), cfg.Bucket, key, minio.PutObjectRetentionOptions{VersionID: v1, Mode: &gov, RetainUntilDate: &short, GovernanceBypass: true}); err == nil {
		t.Fatal("PutObjectRetention shortened a compliance retention")
	}
	// An overwrite or a plain delete only adds a version or a delete
	// marker: the locked version keeps its bytes.
	_, err = c.PutObject(t.Context(), cfg.Bucket, key, strings.NewReader("forged"), 6, minio.PutObjectOptions{})
	must(t, err)
	must(t, c.RemoveObject(t.Context(), cfg.Bucket, key, minio.RemoveObjectOptions{}))
	if b := versionBytes(t, c, cfg.Bucket, key, v1); b != "signature bytes" {
		t.Fatalf("locked version now holds %q", b)
	}
	if err := c.RemoveObject(t.Context(), cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: v1, GovernanceBypass: true}); err == nil {
		t.Fatal("the locked version was deleted after an overwrite")
	}
}

// TestS3ObjectLockGovernanceCanBeBypassed shows why compliance is the
// default: in governance mode the bucket's root credentials, the ones the
// app holds, delete the evidence with a bypass header.
func TestS3ObjectLockGovernanceCanBeBypassed(t *testing.T) {
	cfg := miniotest.StartLocked(t)
	cfg.LockMode = storage.ModeGovernance
	s, err := storage.NewS3(t.Context(), cfg)
	must(t, err)
	if w := s.WriteOnce(t.Context()); !w.Active || w.Mode != storage.ModeGovernance {
		t.Fatalf("WriteOnce = %+v", w)
	}
	put(t, s, "certs/1.pdf", "%PDF", "application/pdf")
	must(t, s.Retain(t.Context(), "certs/1.pdf", time.Now().Add(time.Hour)))
	wantErr(t, s.Delete(t.Context(), "certs/1.pdf"), storage.ErrRetained, "store delete")
	c := rootClient(t, cfg)
	st, err := c.StatObject(t.Context(), cfg.Bucket, "certs/1.pdf", minio.StatObjectOptions{})
	must(t, err)
	if err := c.RemoveObject(t.Context(), cfg.Bucket, "certs/1.pdf", minio.RemoveObjectOptions{VersionID: st.VersionID}); err == nil {
		t.Fatal("governance retention deleted without bypass")
	}
	must(t, c.RemoveObject(t.Context(), cfg.Bucket, "certs/1.pdf", minio.RemoveObjectOptions{VersionID: st.VersionID, GovernanceBypass: true}))
}

// TestS3ObjectLockDeleteRemovesAllVersions: in a versioned (Object Lock)
// bucket, deleting an object that is not evidence removes every version,
// not just hides it behind a delete marker.
func TestS3ObjectLockDeleteRemovesAllVersions(t *testing.T) {
	cfg := miniotest.StartLocked(t)
	s, err := storage.NewS3(t.Context(), cfg)
	must(t, err)
	put(t, s, "media/p.jpg", "one", "image/jpeg")
	put(t, s, "media/p.jpg", "two", "image/jpeg")
	put(t, s, "media/p.jpg.r/thumb.jpg", "t", "image/jpeg")
	must(t, s.Delete(t.Context(), "media/p.jpg"))
	var left []string
	for oi := range rootClient(t, cfg).ListObjects(t.Context(), cfg.Bucket, minio.ListObjectsOptions{Prefix: "media/", Recursive: true, WithVersions: true}) {
		must(t, oi.Err)
		left = append(left, oi.Key)
	}
	equalKeys(t, "versions left", left, []string{"media/p.jpg.r/thumb.jpg"})
}

func TestS3WithoutObjectLock(t *testing.T) {
	cfg := miniotest.Start(t)
	s, err := storage.NewS3(t.Context(), cfg)
	must(t, err)
	if w := s.WriteOnce(t.Context()); w.Active || !strings.Contains(w.String(), "no Object Lock") {
		t.Fatalf("WriteOnce = %+v", w)
	}
	put(t, s, "k", "v", "text/plain")
	must(t, s.Retain(t.Context(), "k", time.Now().Add(time.Hour))) // nothing to do
	must(t, s.Delete(t.Context(), "k"))
}

// TestLocalRetention: local evidence files are read-only and Storykeep
// refuses to delete or overwrite them until their date.
func TestLocalRetention(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.NewLocal(dir)
	must(t, err)
	defer l.Close()
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	l.SetClock(func() time.Time { return now })
	if w := l.WriteOnce(t.Context()); !w.Active || w.Mode != storage.ModeLocal {
		t.Fatalf("WriteOnce = %+v", w)
	}
	wantErr(t, l.Retain(t.Context(), "consents/r/missing.pdf", now), storage.ErrNotFound, "retain a missing object")
	put(t, l, "consents/r/certificate.pdf", "%PDF", "application/pdf")
	until := now.AddDate(6, 0, 0)
	must(t, l.Retain(t.Context(), "consents/r/certificate.pdf", until))
	must(t, l.Retain(t.Context(), "consents/r/certificate.pdf", until.AddDate(-1, 0, 0))) // never shortened
	got, err := l.RetainedUntil(t.Context(), "consents/r/certificate.pdf")
	must(t, err)
	if !got.Equal(until) {
		t.Fatalf("RetainedUntil = %v, want %v", got, until)
	}
	fi, err := os.Stat(filepath.Join(dir, "consents/r/certificate.pdf"))
	must(t, err)
	if fi.Mode().Perm() != 0o444 {
		t.Fatalf("mode = %v, want read-only 0444", fi.Mode().Perm())
	}
	err = l.Delete(t.Context(), "consents/r/certificate.pdf")
	wantErr(t, err, storage.ErrRetained, "delete")
	if !strings.Contains(err.Error(), "2032-12-04") {
		t.Errorf("error %v does not name the date", err)
	}
	_, err = l.Put(t.Context(), "consents/r/certificate.pdf", bytes.NewReader([]byte("x")), 1, "application/pdf")
	wantErr(t, err, storage.ErrRetained, "overwrite")
	if b, info := read(t, l, "consents/r/certificate.pdf"); b != "%PDF" || info.ContentType != "application/pdf" {
		t.Fatalf("object now %q %q", b, info.ContentType)
	}
	now = until
	must(t, l.Delete(t.Context(), "consents/r/certificate.pdf"))
	if _, err := l.Stat(t.Context(), "consents/r/certificate.pdf"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after its date: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".storykeep/meta/consents/r/certificate.pdf")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("sidecar left: %v", err)
	}
}
