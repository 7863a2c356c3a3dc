package miniotest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinaryOrder(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "gopath", "bin", "minio")
	if err := os.MkdirAll(filepath.Dir(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir) // no minio on PATH
	t.Setenv("HOME", dir)

	t.Setenv("STORYKEEP_MINIO_BIN", fake)
	if got, err := findBinary(); err != nil || got != fake {
		t.Fatalf("env var: got %q, %v", got, err)
	}
	t.Setenv("STORYKEEP_MINIO_BIN", filepath.Join(dir, "missing"))
	if _, err := findBinary(); err == nil {
		t.Fatal("a missing STORYKEEP_MINIO_BIN was not reported")
	}

	t.Setenv("STORYKEEP_MINIO_BIN", "")
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", filepath.Join(dir, "gopath"))
	if got, err := findBinary(); err != nil || got != fake {
		t.Fatalf("GOPATH: got %q, %v", got, err)
	}
	t.Setenv("GOPATH", filepath.Join(dir, "elsewhere"))
	_, err := findBinary()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "go", "bin", "minio")) {
		t.Fatalf("nothing installed: got %v, want the paths tried", err)
	}
}
