package storage_test

import (
	"context"
	"errors"
	"io"
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

// cancellingReader yields n bytes, then cancels the upload's context (the
// client went away, or SIGTERM) and fails.
type cancellingReader struct {
	n      int64
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		r.cancel()
		return 0, errors.New("client disconnected")
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = byte(i)
	}
	r.n -= k
	return int(k), nil
}

func incomplete(t *testing.T, cfg storage.S3Config) []minio.ObjectMultipartInfo {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(strings.TrimPrefix(cfg.Endpoint, "http://"), "https://"),
		&minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.UseTLS, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	var out []minio.ObjectMultipartInfo
	for u := range c.ListIncompleteUploads(context.Background(), cfg.Bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		out = append(out, u)
	}
	return out
}

// Finding (real servers §4): a failed S3 upload left its multipart upload
// (and its parts) in the bucket. Checked against a real MinIO.
func TestF4FailedS3UploadLeavesNoMultipartUpload(t *testing.T) {
	cfg := miniotest.Start(t)
	s, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Unknown size: multipart; two 16 MiB parts go up before the failure.
	_, err = s.Put(ctx, "media/story/s1/big", io.MultiReader(&cancellingReader{n: 40 << 20, cancel: cancel}), -1, "audio/wav")
	if err == nil {
		t.Fatal("the upload should fail")
	}
	if ups := incomplete(t, cfg); len(ups) != 0 {
		t.Fatalf("incomplete multipart uploads left: %+v", ups)
	}
}

// media check's part of the store: incomplete multipart uploads older than
// a threshold are listed and aborted.
func TestF4S3LeftoversListedAndRemoved(t *testing.T) {
	cfg := miniotest.Start(t)
	s, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := minio.NewCore(strings.TrimPrefix(cfg.Endpoint, "http://"), &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.UseTLS, BucketLookup: minio.BucketLookupPath})
	id, err := c.NewMultipartUpload(context.Background(), cfg.Bucket, "media/story/s1/stuck", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part := strings.Repeat("x", 5<<20)
	if _, err := c.PutObjectPart(context.Background(), cfg.Bucket, "media/story/s1/stuck", id, 1, strings.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	if ls, _ := s.Leftovers(context.Background(), time.Hour); len(ls) != 0 {
		t.Fatalf("a young upload must not be reported: %+v", ls)
	}
	ls, err := s.Leftovers(context.Background(), 0)
	if err != nil || len(ls) != 1 || ls[0].Key != "media/story/s1/stuck" || ls[0].UploadID != id {
		t.Fatalf("leftovers %+v, %v", ls, err)
	}
	if err := s.RemoveLeftover(context.Background(), ls[0]); err != nil {
		t.Fatal(err)
	}
	if ups := incomplete(t, cfg); len(ups) != 0 {
		t.Fatalf("not aborted: %+v", ups)
	}
}

// Finding (fault runs §5): upload temp files stayed for 24 h and no check
// reported them.
func TestF5LocalTempFilesListedAndRemoved(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".storykeep", "tmp", "upload-123")
	if err := os.WriteFile(tmp, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(tmp, old, old)
	if ls, _ := l.Leftovers(context.Background(), 3*time.Hour); len(ls) != 0 {
		t.Fatalf("younger than the threshold: %+v", ls)
	}
	ls, err := l.Leftovers(context.Background(), time.Hour)
	if err != nil || len(ls) != 1 || ls[0].Size != 1000 {
		t.Fatalf("%+v %v", ls, err)
	}
	if err := l.RemoveLeftover(context.Background(), ls[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatal("temp file not removed")
	}
	if err := l.RemoveLeftover(context.Background(), storage.Leftover{Key: ".storykeep/tmp/../../etc"}); err == nil {
		t.Fatal("a path outside the temp dir must be refused")
	}
}
