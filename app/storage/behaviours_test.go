package storage_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

// behaviours is the contract of storage.Store; every entry runs against every
// store on a fresh, empty instance.
var behaviours = []struct {
	name string
	run  func(t *testing.T, h harness)
}{
	{"PutOpenStat", func(t *testing.T, h harness) {
		key, body := "patients/42/photo.jpg", "not really a jpeg"
		checkInfo(t, "put", put(t, h.store, key, body, "image/jpeg"), key, int64(len(body)), "image/jpeg")
		got, info := read(t, h.store, key)
		if got != body {
			t.Fatalf("open: got %q, want %q", got, body)
		}
		checkInfo(t, "open", info, key, int64(len(body)), "image/jpeg")
		info, err := h.store.Stat(t.Context(), key)
		must(t, err)
		checkInfo(t, "stat", info, key, int64(len(body)), "image/jpeg")
	}},
	{"ContentTypeRoundTrips", func(t *testing.T, h harness) {
		for key, ct := range map[string]string{
			"a.ogg": "audio/ogg; codecs=opus", "b.pdf": "application/pdf", "c": "",
		} {
			put(t, h.store, key, "x", ct)
			if ct == "" {
				ct = "application/octet-stream"
			}
			info, err := h.store.Stat(t.Context(), key)
			must(t, err)
			if info.ContentType != ct {
				t.Errorf("%s: content type %q, want %q", key, info.ContentType, ct)
			}
		}
	}},
	{"EmptyObject", func(t *testing.T, h harness) {
		for _, size := range []int64{0, -1} {
			key := fmt.Sprintf("empty%d", size)
			_, err := h.store.Put(t.Context(), key, strings.NewReader(""), size, "text/plain")
			must(t, err)
			if got, info := read(t, h.store, key); got != "" || info.Size != 0 {
				t.Errorf("%s: got %q size %d", key, got, info.Size)
			}
		}
	}},
	{"Range", testRange},
	{"List", testList},
	{"Delete", func(t *testing.T, h harness) {
		put(t, h.store, "a/b", "1", "")
		must(t, h.store.Delete(t.Context(), "a/b"))
		_, err := h.store.Stat(t.Context(), "a/b")
		wantErr(t, err, storage.ErrNotFound, "stat deleted")
		_, _, err = h.store.Open(t.Context(), "a/b")
		wantErr(t, err, storage.ErrNotFound, "open deleted")
		must(t, h.store.Delete(t.Context(), "a/b"))           // again
		must(t, h.store.Delete(t.Context(), "never/existed")) // never there
		must(t, h.store.Delete(t.Context(), "a"))             // a former "directory"
		put(t, h.store, "a", "now a file", "")                // a former "directory" is a free key
		equalKeys(t, "after delete", keys(t, h.store, ""), []string{"a"})
	}},
	{"Overwrite", func(t *testing.T, h harness) {
		put(t, h.store, "k", "first", "text/plain")
		put(t, h.store, "k", "second version", "image/png")
		got, info := read(t, h.store, "k")
		if got != "second version" {
			t.Fatalf("got %q", got)
		}
		checkInfo(t, "overwritten", info, "k", int64(len(got)), "image/png")
		equalKeys(t, "list", keys(t, h.store, ""), []string{"k"})
	}},
	{"Missing", func(t *testing.T, h harness) {
		put(t, h.store, "file", "x", "")
		for _, key := range []string{"nope", "file/child", "fil"} {
			_, _, err := h.store.Open(t.Context(), key)
			wantErr(t, err, storage.ErrNotFound, "open "+key)
			_, _, err = h.store.OpenRange(t.Context(), key, 1, 2)
			wantErr(t, err, storage.ErrNotFound, "range "+key)
			_, err = h.store.Stat(t.Context(), key)
			wantErr(t, err, storage.ErrNotFound, "stat "+key)
		}
	}},
	{"InvalidKeys", testInvalidKeys},
	{"ReaderFailsHalfway", testReaderFails},
	{"SizeMismatch", testSizeMismatch},
	{"CancelledContext", testCancelled},
	{"LargeStreamed", testLarge},
	{"ConcurrentPuts", func(t *testing.T, h harness) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				body := strings.Repeat(fmt.Sprint(i), 1000+i)
				if _, err := h.store.Put(t.Context(), "same", strings.NewReader(body), -1, fmt.Sprintf("text/v%d", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, info := read(t, h.store, "same")
		if want := "text/v" + got[:1]; info.ContentType != want || int(info.Size) != len(got) {
			t.Fatalf("data %q... (%d bytes) stored with type %q size %d", got[:1], len(got), info.ContentType, info.Size)
		}
	}},
	{"Ready", func(t *testing.T, h harness) { must(t, h.store.Ready(t.Context())) }},
}

func testRange(t *testing.T, h harness) {
	put(t, h.store, "digits", "0123456789", "text/plain")
	put(t, h.store, "empty", "", "text/plain")
	for _, c := range []struct {
		key            string
		offset, length int64
		want           string
		err            error
	}{
		{"digits", 0, -1, "0123456789", nil}, {"digits", 2, 3, "234", nil}, {"digits", 0, 1, "0", nil},
		{"digits", 7, -1, "789", nil}, {"digits", 8, 100, "89", nil}, {"digits", 3, 0, "", nil},
		{"digits", 10, -1, "", nil}, {"digits", 10, 5, "", nil}, {"empty", 0, -1, "", nil}, {"empty", 0, 5, "", nil},
		{"digits", 11, -1, "", storage.ErrInvalidRange}, {"digits", 11, 0, "", storage.ErrInvalidRange},
		{"digits", -1, 2, "", storage.ErrInvalidRange}, {"digits", 0, -2, "", storage.ErrInvalidRange},
	} {
		what := fmt.Sprintf("%s[%d:+%d]", c.key, c.offset, c.length)
		rc, info, err := h.store.OpenRange(t.Context(), c.key, c.offset, c.length)
		if c.err != nil {
			wantErr(t, err, c.err, what)
			continue
		}
		must(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		must(t, err)
		if string(b) != c.want || info.Size != map[string]int64{"digits": 10, "empty": 0}[c.key] || info.ContentType != "text/plain" {
			t.Errorf("%s: got %q with %+v, want %q", what, b, info, c.want)
		}
	}
}

func testList(t *testing.T, h harness) {
	all := []string{"a.txt", "a/b", "a/c/d", "b", "photos/12/x", "photos/123/y", "z-"}
	for i, k := range []int{3, 0, 6, 2, 5, 1, 4} { // out of order on purpose
		put(t, h.store, all[k], strings.Repeat("x", i+1), "text/plain")
	}
	equalKeys(t, "all, in byte order", keys(t, h.store, ""), all)
	equalKeys(t, "partial segment", keys(t, h.store, "photos/12"), []string{"photos/12/x", "photos/123/y"})
	equalKeys(t, "directory", keys(t, h.store, "photos/12/"), []string{"photos/12/x"})
	equalKeys(t, "a/", keys(t, h.store, "a/"), []string{"a/b", "a/c/d"})
	equalKeys(t, "a", keys(t, h.store, "a"), []string{"a.txt", "a/b", "a/c/d"})
	equalKeys(t, "none", keys(t, h.store, "zzz"), nil)
	must(t, h.store.List(t.Context(), "b", func(i storage.Info) error {
		if i.Size != 1 || i.ModTime.IsZero() {
			t.Errorf("list info %+v", i)
		}
		return nil
	}))
	stop, calls := errors.New("stop"), 0
	err := h.store.List(t.Context(), "", func(storage.Info) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("early stop: err %v after %d calls", err, calls)
	}
	for _, bad := range []string{"../", "/a", "a//", "a\\b"} {
		wantErr(t, h.store.List(t.Context(), bad, func(storage.Info) error { return nil }), storage.ErrInvalidKey, "list "+bad)
	}
}

func testInvalidKeys(t *testing.T, h harness) {
	for _, key := range []string{
		"", "../../etc/passwd", "/abs", "/etc/passwd", "a//b", "a/", "./a", "a/./b", "a/../b", "..",
		`a\b`, `..\..\x`, "a\x00b", "a\nb", "a\x7fb", strings.Repeat("x", 1025), strings.Repeat("s", 256), ".storykeep/meta/x", "\xff",
	} {
		ctx := t.Context()
		_, err := h.store.Put(ctx, key, strings.NewReader("x"), 1, "")
		wantErr(t, err, storage.ErrInvalidKey, fmt.Sprintf("put %q", key))
		_, _, err = h.store.Open(ctx, key)
		wantErr(t, err, storage.ErrInvalidKey, fmt.Sprintf("open %q", key))
		_, _, err = h.store.OpenRange(ctx, key, 0, 1)
		wantErr(t, err, storage.ErrInvalidKey, fmt.Sprintf("range %q", key))
		_, err = h.store.Stat(ctx, key)
		wantErr(t, err, storage.ErrInvalidKey, fmt.Sprintf("stat %q", key))
		wantErr(t, h.store.Delete(ctx, key), storage.ErrInvalidKey, fmt.Sprintf("delete %q", key))
	}
	equalKeys(t, "nothing stored", keys(t, h.store, ""), nil)
	if stray := h.leftovers(t, ""); len(stray) > 0 {
		t.Fatalf("invalid keys left %v", stray)
	}
	long := strings.Repeat(strings.Repeat("k", 200)+"/", 5) + strings.Repeat("k", 19) // 1024 bytes
	for _, key := range []string{"..foo", "a/.hidden", "ünïcode/файл 1.png", long} {
		put(t, h.store, key, "ok", "")
		must(t, h.store.Delete(t.Context(), key))
	}
}
