package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	localTmpDir  = reservedDir + "/tmp"
	localMetaDir = reservedDir + "/meta"
	// staleTmpAge is how old a temp file must be before NewLocal removes it;
	// younger ones may belong to another process's upload still under way.
	staleTmpAge = 24 * time.Hour
)

// Local keeps objects as plain files under one directory, so development and
// small single-server installs need no object store. Each key is a file at
// root/<key>; its content type lives in a sidecar under root/.storykeep/meta,
// and uploads are staged in root/.storykeep/tmp. Files are created private
// to the service user because they hold patient media.
//
// All file access goes through os.Root, so even a symlink planted under root
// cannot lead a key outside it.
type Local struct {
	root *os.Root
	dir  string
	// mu orders commits and deletes against each other and against reads of
	// data+sidecar, so Stat never pairs new data with an old content type and
	// Delete's pruning of empty directories cannot race a Put's MkdirAll.
	mu sync.RWMutex
	// now is the clock retention dates are compared with (tests move it).
	now func() time.Time
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating if needed) a store rooted at dir. Temp files left
// by a crash more than a day ago are removed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: local root directory not set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create local root: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open local root: %w", err)
	}
	l := &Local{root: root, dir: dir, now: time.Now}
	for _, d := range []string{localTmpDir, localMetaDir} {
		if err := root.MkdirAll(d, 0o700); err != nil {
			root.Close()
			return nil, fmt.Errorf("storage: prepare %s: %w", filepath.Join(dir, d), err)
		}
	}
	l.removeStaleTemps()
	return l, nil
}

// FilePath returns the file holding key, for tools that must open it by
// name (ffprobe). The key is validated like every other key.
func (l *Local) FilePath(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Close releases the directory handle; the Local must not be used after.
func (l *Local) Close() error { return l.root.Close() }

// Put implements Store. The data is written to a temp file, synced, and only
// then renamed over the key, so readers see the old object or the new one.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error) {
	ct, err := checkPutArgs(key, size, contentType)
	if err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	data, err := l.writeTemp(newPutReader(ctx, r, size))
	if err != nil {
		return Info{}, fmt.Errorf("storage: put %q: %w", key, ctxErr(ctx, err))
	}
	defer l.root.Remove(data) // no-op once renamed
	meta, err := l.writeTemp(strings.NewReader(encodeMeta(ct)))
	if err != nil {
		return Info{}, fmt.Errorf("storage: put %q: %w", key, err)
	}
	defer l.root.Remove(meta)

	l.mu.Lock()
	defer l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("storage: put %q: %w", key, err)
	}
	name, metaName := filepath.FromSlash(key), metaPath(key)
	if until := l.retainUntil(key); l.now().Before(until) {
		return Info{}, retainedErr("put", key, until)
	}
	if err := l.rename(data, name); err != nil {
		return Info{}, fmt.Errorf("storage: put %q: %w", key, err)
	}
	if err := l.rename(meta, metaName); err != nil {
		// Trees mirror each other, so this is unexpected; don't leave data
		// whose content type is wrong.
		l.root.Remove(name)
		return Info{}, fmt.Errorf("storage: put %q: write content type: %w", key, err)
	}
	fi, err := l.root.Stat(name)
	if err != nil {
		return Info{}, fmt.Errorf("storage: put %q: %w", key, err)
	}
	return Info{Key: key, Size: fi.Size(), ContentType: ct, ModTime: fi.ModTime()}, nil
}

// writeTemp copies r to a new synced file in the temp dir and returns its
// name; on any error the file is gone.
func (l *Local) writeTemp(r io.Reader) (name string, err error) {
	var rnd [12]byte
	rand.Read(rnd[:])
	name = filepath.Join(filepath.FromSlash(localTmpDir), hex.EncodeToString(rnd[:]))
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			l.root.Remove(name)
		}
	}()
	buf := make([]byte, 256<<10)
	if _, err = io.CopyBuffer(onlyWriter{f}, r, buf); err != nil {
		return name, err
	}
	return name, f.Sync()
}

// onlyWriter hides *os.File's ReadFrom so CopyBuffer reads through our
// putReader in bounded chunks instead of handing r to sendfile/splice paths.
type onlyWriter struct{ io.Writer }

// rename moves a synced temp file into place and syncs the directory so the
// new name survives a power cut.
func (l *Local) rename(from, to string) error {
	dir := filepath.Dir(to)
	if err := l.root.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := l.root.Rename(from, to); err != nil {
		return err
	}
	if d, err := l.root.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Open implements Store.
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	return l.OpenRange(ctx, key, 0, -1)
}

// OpenRange implements Store. The file stays open, so a concurrent Put or
// Delete does not disturb a read already started.
func (l *Local) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := checkRange(offset, length); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	l.mu.RLock()
	f, err := l.root.Open(filepath.FromSlash(key))
	if err != nil {
		l.mu.RUnlock()
		return nil, Info{}, l.fsErr("open", key, err)
	}
	info, err := l.info(key, f.Stat)
	l.mu.RUnlock()
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	if offset > info.Size {
		f.Close()
		return nil, Info{}, fmt.Errorf("%w: offset %d past size %d of %q", ErrInvalidRange, offset, info.Size, key)
	}
	n := info.Size - offset
	if length >= 0 && length < n {
		n = length
	}
	return sectionCloser{io.NewSectionReader(f, offset, n), f}, info, nil
}

type sectionCloser struct {
	*io.SectionReader
	io.Closer
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.info(key, func() (fs.FileInfo, error) { return l.root.Stat(filepath.FromSlash(key)) })
}

// info builds Info from stat plus the sidecar; callers hold mu.
func (l *Local) info(key string, stat func() (fs.FileInfo, error)) (Info, error) {
	fi, err := stat()
	if err != nil {
		return Info{}, l.fsErr("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("storage: stat %q: %w", key, ErrNotFound)
	}
	return Info{Key: key, Size: fi.Size(), ContentType: l.contentType(key), ModTime: fi.ModTime()}, nil
}

// contentType reads the sidecar; files copied in by hand have none, so fall
// back to the extension.
func (l *Local) contentType(key string) string {
	if b, err := l.root.ReadFile(metaPath(key)); err == nil {
		var m localMeta
		if json.Unmarshal(b, &m) == nil && m.ContentType != "" {
			return m.ContentType
		}
	}
	if ct := mime.TypeByExtension(path.Ext(key)); ct != "" {
		return ct
	}
	return defaultContentType
}

type localMeta struct {
	ContentType string `json:"contentType"`
	// RetainUntil is the date before which Storykeep refuses to delete or
	// overwrite the object (write-once evidence).
	RetainUntil *time.Time `json:"retainUntil,omitempty"`
}

func encodeMeta(ct string) string {
	b, _ := json.Marshal(localMeta{ContentType: ct})
	return string(b)
}

func metaPath(key string) string { return filepath.FromSlash(localMetaDir + "/" + key) }

// Delete implements Store. Directories left empty are removed so that a later
// Put of a key equal to a former directory name works, as it does on S3.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	name := filepath.FromSlash(key)
	fi, err := l.root.Lstat(name)
	switch {
	case err != nil:
		if err = l.fsErr("delete", key, err); errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	case fi.IsDir(): // only other keys live below it
		return nil
	}
	if until := l.retainUntil(key); l.now().Before(until) {
		return retainedErr("delete", key, until)
	}
	if err := l.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %q: %w", key, err)
	}
	l.root.Remove(metaPath(key))
	l.pruneDirs(path.Dir(key), "")
	l.pruneDirs(path.Dir(key), localMetaDir+"/")
	return nil
}

// pruneDirs removes empty directories from dir upwards; it stops at the first
// one that is not empty.
func (l *Local) pruneDirs(dir, base string) {
	for ; dir != "." && dir != "/"; dir = path.Dir(dir) {
		if l.root.Remove(filepath.FromSlash(base+dir)) != nil {
			return
		}
	}
}

// Ready implements Store by writing, syncing and removing a probe file, which
// catches a read-only mount or a full disk before the first upload does.
func (l *Local) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(l.dir)
	if err != nil {
		return fmt.Errorf("storage: local root %s: %w", l.dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("storage: local root %s is not a directory", l.dir)
	}
	name, err := l.writeTemp(strings.NewReader("ready"))
	if err != nil {
		return fmt.Errorf("storage: local root %s is not writable: %w", l.dir, err)
	}
	return l.root.Remove(name)
}

// fsErr maps "no such file" and "a parent is a file" to ErrNotFound.
func (l *Local) fsErr(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("storage: %s %q: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("storage: %s %q: %w", op, key, err)
}

func (l *Local) removeStaleTemps() {
	d, err := l.root.Open(filepath.FromSlash(localTmpDir))
	if err != nil {
		return
	}
	defer d.Close()
	entries, _ := d.ReadDir(-1)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTmpAge {
			l.root.Remove(filepath.Join(filepath.FromSlash(localTmpDir), e.Name()))
		}
	}
}

// Leftovers implements LeftoverStore: temp files of uploads older than
// olderThan (an upload killed mid-stream leaves one until the store opens
// a day later).
func (l *Local) Leftovers(_ context.Context, olderThan time.Duration) ([]Leftover, error) {
	d, err := l.root.Open(filepath.FromSlash(localTmpDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: temp dir: %w", err)
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("storage: temp dir: %w", err)
	}
	var out []Leftover
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) <= olderThan {
			continue
		}
		out = append(out, Leftover{Kind: "temp file", Key: localTmpDir + "/" + e.Name(), Size: fi.Size(), Started: fi.ModTime()})
	}
	return out, nil
}

// RemoveLeftover implements LeftoverStore.
func (l *Local) RemoveLeftover(_ context.Context, lo Leftover) error {
	name, ok := strings.CutPrefix(lo.Key, localTmpDir+"/")
	if !ok || name == "" || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("storage: %q is not a temp file: %w", lo.Key, ErrInvalidKey)
	}
	if err := l.root.Remove(filepath.Join(filepath.FromSlash(localTmpDir), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: remove temp file: %w", err)
	}
	return nil
}
