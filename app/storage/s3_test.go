package storage_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
)

func TestS3ReadyNamesMissingBucket(t *testing.T) {
	cfg := miniotest.Start(t)
	cfg.Bucket = "no-such-bucket-here"
	s, err := storage.NewS3(t.Context(), cfg)
	must(t, err)
	err = s.Ready(t.Context())
	if err == nil || !strings.Contains(err.Error(), cfg.Bucket) || !strings.Contains(err.Error(), cfg.Endpoint) {
		t.Fatalf("Ready = %v, want an error naming bucket and endpoint", err)
	}

	cfg.CreateBucket = true
	s, err = storage.NewS3(t.Context(), cfg)
	must(t, err)
	must(t, s.Ready(t.Context()))
	_, err = storage.NewS3(t.Context(), cfg) // already there: fine
	must(t, err)
}

func TestS3ReadyUnreachable(t *testing.T) {
	s, err := storage.NewS3(t.Context(), storage.S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "media", Region: "us-east-1"})
	must(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second) // as a health check would
	defer cancel()
	err = s.Ready(ctx)
	if err == nil || !strings.Contains(err.Error(), "media") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Ready = %v, want an error naming bucket and endpoint", err)
	}
}

func TestS3ConfigChecks(t *testing.T) {
	for _, cfg := range []storage.S3Config{
		{Endpoint: "", Bucket: "media"},
		{Endpoint: "minio:9000", Bucket: "Bad_Bucket"},
		{Endpoint: "http://minio:9000", Bucket: "media", UseTLS: true},
		{Endpoint: "ftp://minio:9000", Bucket: "media"},
	} {
		if _, err := storage.NewS3(t.Context(), cfg); err == nil {
			t.Errorf("NewS3(%+v) accepted", cfg)
		}
	}
}

func TestS3PresignGet(t *testing.T) {
	cfg := miniotest.Start(t)
	s, err := storage.NewS3(t.Context(), cfg)
	must(t, err)
	put(t, s, "certs/7.pdf", "%PDF-1.7 fake", "application/pdf")

	u, err := s.PresignGet(t.Context(), "certs/7.pdf", time.Minute, "Certificat Zoë.pdf")
	must(t, err)
	resp, err := http.Get(u.String())
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "%PDF-1.7 fake" {
		t.Fatalf("GET presigned: %d %q", resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "Zo%C3%AB") {
		t.Errorf("Content-Disposition = %q", cd)
	}

	_, err = s.PresignGet(t.Context(), "../x", time.Minute, "")
	wantErr(t, err, storage.ErrInvalidKey, "presign bad key")
	if _, err := s.PresignGet(t.Context(), "certs/7.pdf", 8*24*time.Hour, ""); err == nil {
		t.Error("an expiry past 7 days was accepted")
	}
}
