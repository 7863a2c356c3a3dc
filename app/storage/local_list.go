package storage

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// List implements Store. It walks only the directories that can hold keys
// with the prefix, and visits entries so that keys come out in the same byte
// order S3 uses ("a.txt" before "a/b"). Files whose names are not valid keys
// (copied in by hand) and symlinks are skipped.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	return l.walk(ctx, "", prefix, fn)
}

func (l *Local) walk(ctx context.Context, dir, prefix string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := l.root.Open(filepath.FromSlash(dirOrDot(dir)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walked
		}
		return err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	// Sorting a directory as name+"/" puts its keys where S3 would.
	sortKey := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(sortKey(a), sortKey(b)) })
	for _, e := range entries {
		key := dir + e.Name()
		switch {
		case dir == "" && e.Name() == reservedDir:
		case e.IsDir():
			sub := key + "/"
			if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
				if err := l.walk(ctx, sub, prefix, fn); err != nil {
					return err
				}
			}
		case e.Type().IsRegular() && strings.HasPrefix(key, prefix) && ValidateKey(key) == nil:
			fi, err := e.Info()
			if err != nil {
				continue // deleted since ReadDir
			}
			if err := fn(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func dirOrDot(dir string) string {
	if dir == "" {
		return "."
	}
	return strings.TrimSuffix(dir, "/")
}
