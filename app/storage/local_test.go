package storage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

// TestLocalSymlinkCannotEscape plants a link to a directory outside the
// root; keys through it must not reach the files there.
func TestLocalSymlinkCannotEscape(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("patient data"), 0o600))
	must(t, os.Symlink(outside, filepath.Join(root, "link")))
	l, err := storage.NewLocal(root)
	must(t, err)
	defer l.Close()
	if _, _, err := l.Open(t.Context(), "link/secret"); err == nil {
		t.Fatal("read through a symlink out of the root")
	}
	if _, err := l.Put(t.Context(), "link/new", strings.NewReader("x"), 1, ""); err == nil {
		t.Fatal("wrote through a symlink out of the root")
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Fatal("file created outside the root")
	}
}

func TestLocalReadyNotWritable(t *testing.T) {
	root := t.TempDir()
	l, err := storage.NewLocal(root)
	must(t, err)
	defer l.Close()
	must(t, os.RemoveAll(root))
	must(t, os.WriteFile(root, nil, 0o600)) // root is now a file
	if err := l.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), root) {
		t.Fatalf("Ready = %v, want an error naming %s", err, root)
	}
}
