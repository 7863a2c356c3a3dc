package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

const mib = 1 << 20

var errBoom = errors.New("boom: upload connection dropped")

// stream produces n deterministic pseudo-random bytes without holding them.
func stream(seed byte, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

// failAfter yields n bytes of r and then fails with errBoom.
type failAfter struct {
	r io.Reader
	n int64
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBoom
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// testReaderFails covers both the single-PUT path and a multipart upload that
// fails after its first 16 MiB part was sent, on a new key and over an
// existing object, which must survive untouched.
func testReaderFails(t *testing.T, h harness) {
	for _, c := range []struct{ failAt, size int64 }{
		{mib, -1}, {mib, 2 * mib}, {20 * mib, -1}, {20 * mib, 40 * mib},
	} {
		for _, existing := range []bool{false, true} {
			key := fmt.Sprintf("fail/%d-%d-%v", c.failAt, c.size, existing)
			if existing {
				put(t, h.store, key, "old", "text/plain")
			}
			_, err := h.store.Put(withTimeout(t), key, &failAfter{stream(1, 64*mib), c.failAt}, c.size, "video/mp4")
			wantErr(t, err, errBoom, key)
			if !existing {
				wantGone(t, h, key)
				continue
			}
			if got, info := read(t, h.store, key); got != "old" || info.ContentType != "text/plain" {
				t.Errorf("%s: old object became %q (%s)", key, got, info.ContentType)
			}
			if stray := h.leftovers(t, key); len(stray) > 0 {
				t.Errorf("%s: left %v", key, stray)
			}
		}
	}
}

func testSizeMismatch(t *testing.T, h harness) {
	for _, c := range []struct {
		body string
		size int64
	}{{"short", 10}, {"longer than declared", 5}, {strings.Repeat("x", 17*mib), 16 * mib}} {
		key := fmt.Sprintf("mismatch/%d-%d", len(c.body), c.size)
		if _, err := h.store.Put(t.Context(), key, strings.NewReader(c.body), c.size, ""); err == nil {
			t.Errorf("%s: a %d byte body declared as %d was accepted", key, len(c.body), c.size)
		}
		wantGone(t, h, key)
	}
}

// cancelAfter cancels the upload's context after n bytes and keeps
// supplying data, as a client that went away mid-upload would look.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func testCancelled(t *testing.T, h harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.store.Put(ctx, "cancelled/before", strings.NewReader("x"), 1, "")
	wantErr(t, err, context.Canceled, "put with cancelled context")
	wantGone(t, h, "cancelled/before")

	for _, c := range []struct{ cancelAt, total, size int64 }{
		{100 << 10, mib, mib}, {100 << 10, mib, -1}, {17 * mib, 24 * mib, -1}, {17 * mib, 24 * mib, 24 * mib},
	} {
		key := fmt.Sprintf("cancelled/%d-%d", c.cancelAt, c.size)
		ctx, cancel := context.WithCancel(t.Context())
		_, err := h.store.Put(ctx, key, &cancelAfter{stream(2, c.total), c.cancelAt, cancel}, c.size, "")
		cancel()
		wantErr(t, err, context.Canceled, key)
		wantGone(t, h, key)
	}
}

// testLarge streams 40 MiB of unknown size (three parts on S3) and checks
// every byte by hash, plus a range that straddles a part boundary.
func testLarge(t *testing.T, h harness) {
	const size = 40 * mib
	sum := sha256.New()
	info, err := h.store.Put(withTimeout(t), "video/big.mp4", io.TeeReader(stream(3, size), sum), -1, "video/mp4")
	must(t, err)
	if info.Size != size {
		t.Fatalf("put reported %d bytes, want %d", info.Size, size)
	}
	rc, info, err := h.store.Open(withTimeout(t), "video/big.mp4")
	must(t, err)
	got := sha256.New()
	_, err = io.Copy(got, rc)
	rc.Close()
	must(t, err)
	if !bytes.Equal(got.Sum(nil), sum.Sum(nil)) || info.Size != size || info.ContentType != "video/mp4" {
		t.Fatalf("round trip differs: %+v", info)
	}

	const off, n = 16*mib - 100, 300
	rc, info, err = h.store.OpenRange(t.Context(), "video/big.mp4", off, n)
	must(t, err)
	part, err := io.ReadAll(rc)
	rc.Close()
	must(t, err)
	want := make([]byte, off+n)
	io.ReadFull(stream(3, size), want)
	if !bytes.Equal(part, want[off:]) || info.Size != size {
		t.Fatalf("range across part boundary differs (%d bytes, info %+v)", len(part), info)
	}
}

// TestValidateKeyMessage checks that refusals say what is wrong, since they
// end up in logs read by people chasing a failed upload.
func TestValidateKeyMessage(t *testing.T) {
	for key, want := range map[string]string{
		"":                 "empty",
		"../../etc/passwd": `".." segment`,
		"/abs":             "absolute",
		"a//b":             "empty path segment",
		`a\b`:              "backslash",
		"a\x00b":           "control character",
		".storykeep/x":     "reserved",
	} {
		err := storage.ValidateKey(key)
		if !errors.Is(err, storage.ErrInvalidKey) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey mentioning %q", key, err, want)
		}
	}
}
