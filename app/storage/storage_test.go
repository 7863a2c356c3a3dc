package storage_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
)

func TestMain(m *testing.M) { os.Exit(miniotest.Run(m)) }

// harness is one fresh, empty store plus a way to see what a failed Put may
// have left behind: stray files under the local root, or unfinished
// multipart uploads in the bucket.
type harness struct {
	store     storage.Store
	leftovers func(t *testing.T, key string) []string
}

var stores = []struct {
	name string
	open func(t *testing.T) harness
}{
	{"local", newLocalHarness},
	{"s3", newS3Harness},
	// An Object Lock bucket is versioned: every behaviour must hold there
	// too (a delete really deletes, an overwrite reads back the new bytes).
	{"s3-object-lock", newS3LockedHarness},
}

// TestConformance runs every behaviour against every store, so code written
// against the local store on a laptop behaves the same on MinIO.
func TestConformance(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			for _, b := range behaviours {
				t.Run(b.name, func(t *testing.T) { b.run(t, s.open(t)) })
			}
		})
	}
}

func newLocalHarness(t *testing.T) harness {
	dir := t.TempDir()
	l, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return harness{store: l, leftovers: func(t *testing.T, _ string) []string {
		listed := map[string]bool{}
		must(t, l.List(t.Context(), "", func(i storage.Info) error { listed[i.Key] = true; return nil }))
		var stray []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if !listed[strings.TrimPrefix(rel, ".storykeep/meta/")] {
				stray = append(stray, rel)
			}
			return nil
		})
		return stray
	}}
}

func newS3Harness(t *testing.T) harness { return s3Harness(t, miniotest.Start(t)) }

func newS3LockedHarness(t *testing.T) harness { return s3Harness(t, miniotest.StartLocked(t)) }

func s3Harness(t *testing.T, cfg storage.S3Config) harness {
	s, err := storage.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return harness{store: s, leftovers: func(t *testing.T, key string) []string {
		var stray []string
		for u := range client.ListIncompleteUploads(t.Context(), cfg.Bucket, key, true) {
			if u.Err != nil {
				t.Fatalf("list uploads: %v", u.Err)
			}
			stray = append(stray, "upload "+u.Key+" "+u.UploadID)
		}
		return stray
	}}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, s storage.Store, key, body, ct string) storage.Info {
	t.Helper()
	info, err := s.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), ct)
	must(t, err)
	return info
}

func read(t *testing.T, s storage.Store, key string) (string, storage.Info) {
	t.Helper()
	rc, info, err := s.Open(t.Context(), key)
	must(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, err)
	return string(b), info
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// wantGone checks a failed Put left no object and nothing else behind.
func wantGone(t *testing.T, h harness, key string) {
	t.Helper()
	_, err := h.store.Stat(t.Context(), key)
	wantErr(t, err, storage.ErrNotFound, "stat after failed put")
	if stray := h.leftovers(t, key); len(stray) > 0 {
		t.Fatalf("failed put left %v", stray)
	}
}

func keys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	var got []string
	must(t, s.List(t.Context(), prefix, func(i storage.Info) error {
		if i.ContentType != "" {
			t.Errorf("List gave content type %q for %s; the contract says empty", i.ContentType, i.Key)
		}
		got = append(got, i.Key)
		return nil
	}))
	return got
}

func checkInfo(t *testing.T, what string, got storage.Info, key string, size int64, ct string) {
	t.Helper()
	if got.Key != key || got.Size != size || got.ContentType != ct {
		t.Errorf("%s: got %+v, want key %q size %d type %q", what, got, key, size, ct)
	}
	if d := time.Since(got.ModTime); d < -time.Minute || d > time.Minute {
		t.Errorf("%s: mod time %v is not about now", what, got.ModTime)
	}
}

func equalKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// withTimeout keeps a broken store from hanging the whole run.
func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
