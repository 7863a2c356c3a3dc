package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/storage"
)

// A backup directory holds:
//
//	storykeep.db       the SQLite database, written by VACUUM INTO (a
//	                   consistent copy taken while the server runs)
//	media/KEY          every object of the media store, under its key
//	keys/data.key      the generated data key (absent when the keys come
//	                   from STORYKEEP_ENCRYPTION_KEYS: keep those yourself)
//	SHA256SUMS         the SHA-256 of every other file, in `sha256sum`
//	                   format, so `sha256sum -c SHA256SUMS` checks it too
//
// PostgreSQL and S3 have their own tools for this; docs/backup.md says how.
const (
	backupDB       = "storykeep.db"
	backupMedia    = "media"
	backupKeys     = "keys"
	backupManifest = "SHA256SUMS"
)

// cmdBackup implements `storykeep backup DIR`: DIR must not exist or be empty.
func cmdBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: storykeep backup DIR")
	}
	dir := args[0]
	cfg, err := loadConfig(args[1:], getenv)
	if err != nil {
		return err
	}
	dbc, err := cfg.Database()
	if err != nil {
		return err
	}
	if dbc.Driver != "sqlite" {
		return errors.New("backup copies a SQLite database; for PostgreSQL use pg_dump (see docs/backup.md)")
	}
	if err := emptyDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	gdb, closeDB, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	// The database first: objects are written before the rows that name
	// them, so every row in this copy finds its object below. An upload that
	// lands in between leaves an orphan object, which `media check --fix`
	// removes after a restore.
	abs, err := filepath.Abs(filepath.Join(dir, backupDB))
	if err != nil {
		return err
	}
	if err := gdb.WithContext(ctx).Exec("VACUUM INTO ?", abs).Error; err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	objects := 0
	err = store.List(ctx, "", func(info storage.Info) error {
		path, err := objectPath(dir, info.Key)
		if err != nil {
			return err
		}
		r, _, err := store.Open(ctx, info.Key)
		if err != nil {
			return err
		}
		defer r.Close()
		objects++
		return writeFile(path, r)
	})
	if err != nil {
		return fmt.Errorf("copying media: %w", err)
	}
	keys := 0
	if cfg.EncryptionKeys == "" {
		src := filepath.Join(cfg.DataDir, "keys")
		entries, err := os.ReadDir(src)
		if err != nil {
			return fmt.Errorf("reading the data keys: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			f, err := os.Open(filepath.Join(src, e.Name()))
			if err != nil {
				return err
			}
			err = writeFile(filepath.Join(dir, backupKeys, e.Name()), f)
			f.Close()
			if err != nil {
				return err
			}
			keys++
		}
	}
	n, err := writeManifest(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: database, %d media object(s), %d key file(s); %d files in %s\n", dir, objects, keys, n, backupManifest)
	if cfg.EncryptionKeys != "" {
		fmt.Fprintln(stdout, "the data keys come from STORYKEEP_ENCRYPTION_KEYS and are not in the backup: keep them with it, separately")
	}
	return nil
}

// cmdRestore implements `storykeep restore DIR` into an empty data directory
// (and an empty media store).
func cmdRestore(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: storykeep restore DIR")
	}
	dir := args[0]
	cfg, err := loadConfig(args[1:], getenv)
	if err != nil {
		return err
	}
	dbc, err := cfg.Database()
	if err != nil {
		return err
	}
	if dbc.Driver != "sqlite" {
		return errors.New("restore writes a SQLite database; for PostgreSQL use pg_restore (see docs/backup.md)")
	}
	files, err := verifyManifest(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dbc.DSN); err == nil {
		return fmt.Errorf("%s exists: restore only into an empty data directory", dbc.DSN)
	}
	keysDir := filepath.Join(cfg.DataDir, "keys")
	if err := emptyDir(keysDir); err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	if err := store.List(ctx, "", func(info storage.Info) error {
		return fmt.Errorf("the media store already holds %s: restore only into an empty one", info.Key)
	}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dbc.DSN), 0o700); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(dir, backupDB), dbc.DSN); err != nil {
		return err
	}
	objects, keys := 0, 0
	for _, f := range files {
		src := filepath.Join(dir, filepath.FromSlash(f))
		switch {
		case strings.HasPrefix(f, backupMedia+"/"):
			r, err := os.Open(src)
			if err != nil {
				return err
			}
			st, _ := r.Stat()
			_, err = store.Put(ctx, strings.TrimPrefix(f, backupMedia+"/"), r, st.Size(), "")
			r.Close()
			if err != nil {
				return fmt.Errorf("restoring %s: %w", f, err)
			}
			objects++
		case strings.HasPrefix(f, backupKeys+"/"):
			if err := copyFile(src, filepath.Join(keysDir, strings.TrimPrefix(f, backupKeys+"/"))); err != nil {
				return err
			}
			keys++
		}
	}
	fmt.Fprintf(stdout, "restored %s: database, %d media object(s), %d key file(s); run `storykeep audit verify` and `storykeep media check`\n", dir, objects, keys)
	return nil
}

// emptyDir is nil when dir does not exist or has no entries.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

// objectPath is where an object key is kept in the backup; keys are relative
// slash paths, and one that would leave the directory is refused.
func objectPath(dir, key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("object key %q cannot be backed up as a file", key)
	}
	return filepath.Join(dir, backupMedia, clean), nil
}

func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFile(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return writeFile(dst, f)
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// backupFiles lists the files of a backup, as slash paths, manifest excluded.
func backupFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); rel != backupManifest {
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func writeManifest(dir string) (int, error) {
	files, err := backupFiles(dir)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	for _, f := range files {
		sum, err := fileSum(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, f)
	}
	return len(files), writeFile(filepath.Join(dir, backupManifest), strings.NewReader(b.String()))
}

// verifyManifest checks every file against SHA256SUMS and that the backup
// holds nothing else and has its database; it returns the files.
func verifyManifest(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, backupManifest))
	if err != nil {
		return nil, fmt.Errorf("not a Storykeep backup: %w", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("%s: bad line %q", backupManifest, sc.Text())
		}
		want[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	files, err := backupFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		sum, ok := want[name]
		if !ok {
			return nil, fmt.Errorf("backup: %s is not in %s", name, backupManifest)
		}
		got, err := fileSum(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		if got != sum {
			return nil, fmt.Errorf("backup: %s does not match its SHA-256 in %s (damaged or changed)", name, backupManifest)
		}
		delete(want, name)
	}
	for name := range want {
		return nil, fmt.Errorf("backup: %s is missing", name)
	}
	if _, err := os.Stat(filepath.Join(dir, backupDB)); err != nil {
		return nil, fmt.Errorf("backup: no %s", backupDB)
	}
	return files, nil
}
