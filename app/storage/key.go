package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLen is the longest key accepted, in bytes. It is S3's own limit, so a
// key that works on local disk also works in the bucket.
const MaxKeyLen = 1024

// MaxSegmentLen is the longest part between slashes, in bytes: the usual
// file-name limit, so every valid key also fits on local disk.
const MaxSegmentLen = 255

// reservedDir is the top-level directory where Local keeps temporary files and
// content-type sidecars. It is refused as a first key segment by every store,
// so the same keys are valid everywhere.
const reservedDir = ".storykeep"

// defaultContentType is stored when the caller gives none, matching S3.
const defaultContentType = "application/octet-stream"

// ValidateKey reports whether key is safe to use as an object key on every
// store. Keys come from request data (patient IDs, upload names), so anything
// that could walk out of a directory or confuse a path is refused here, once,
// before any store touches the disk or the network. The error wraps
// ErrInvalidKey and says what is wrong.
func ValidateKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		shown := key
		if len(shown) > 80 {
			shown = shown[:80] + "..."
		}
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, shown, reason)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty key"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case strings.HasPrefix(key, "/"):
		return "absolute path (leading \"/\")"
	case strings.ContainsRune(key, '\\'):
		return "contains a backslash"
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains control character %U", r)
		}
	}
	first := true
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "empty path segment (\"//\" or trailing \"/\")"
		case len(seg) > MaxSegmentLen:
			return fmt.Sprintf("path segment longer than %d bytes", MaxSegmentLen)
		case seg == "." || seg == "..":
			return fmt.Sprintf("contains a %q segment", seg)
		case first && seg == reservedDir:
			return fmt.Sprintf("%q is reserved for the store's own files", reservedDir)
		}
		first = false
	}
	return ""
}

// validatePrefix accepts "" and any prefix of a valid key: its directory part
// must be a valid key and its last, partial segment must hold no forbidden
// characters.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	dir, tail := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, tail = prefix[:i], prefix[i+1:]
		if err := ValidateKey(dir); err != nil {
			return err
		}
	}
	// "x" makes a partial segment such as "" or ".." checkable as a key.
	if keyProblem("x"+tail) != "" || len(prefix) > MaxKeyLen {
		return ValidateKey(prefix)
	}
	return nil
}

// normalizeContentType defaults an empty type the way S3 does and refuses
// values that cannot travel in an HTTP header.
func normalizeContentType(ct string) (string, error) {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return defaultContentType, nil
	}
	if len(ct) > 255 || strings.ContainsFunc(ct, unicode.IsControl) || !utf8.ValidString(ct) {
		return "", fmt.Errorf("storage: invalid content type %q", ct)
	}
	return ct, nil
}

func checkPutArgs(key string, size int64, contentType string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if size < -1 {
		return "", fmt.Errorf("storage: put %q: negative size %d", key, size)
	}
	return normalizeContentType(contentType)
}

func checkRange(offset, length int64) error {
	if offset < 0 || length < -1 {
		return fmt.Errorf("%w: offset %d, length %d", ErrInvalidRange, offset, length)
	}
	return nil
}

var (
	errShortBody = errors.New("storage: reader ended before the declared size")
	errLongBody  = errors.New("storage: reader has more data than the declared size")
)

// putReader wraps a Put's source so both stores fail the same way, and before
// anything is committed, when the context is cancelled mid-stream or the
// reader's length does not match the declared size.
type putReader struct {
	ctx  context.Context
	r    io.Reader
	left int64 // bytes still expected; -1 when the size is unknown
}

func newPutReader(ctx context.Context, r io.Reader, size int64) *putReader {
	return &putReader{ctx: ctx, r: r, left: size}
}

func (p *putReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	if p.left < 0 {
		return p.r.Read(b)
	}
	if p.left == 0 {
		return 0, p.probeEnd()
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, err := p.r.Read(b)
	p.left -= int64(n)
	switch {
	case err == io.EOF && p.left > 0:
		return n, errShortBody
	case err != nil:
		return n, err
	case p.left == 0:
		// Check for surplus now, while the consumer can still fail the upload.
		return n, p.probeEnd()
	}
	return n, nil
}

// probeEnd returns io.EOF when the underlying reader is exhausted, and an
// error when it still has data.
func (p *putReader) probeEnd() error {
	var one [1]byte
	for range 100 {
		n, err := p.r.Read(one[:])
		if n > 0 {
			return errLongBody
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// ctxErr joins the context's error to err when the context ended, so callers
// can test errors.Is(err, context.Canceled) whatever layer noticed first.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}
