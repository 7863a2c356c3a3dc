package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

func TestIngestRefusesWrongTypes(t *testing.T) {
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 100)...)
	cases := []struct {
		name, declared, data, want string
	}{
		{"svg renamed png", "photo.png", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`, "SVG drawing"},
		{"svg with xml prolog", "photo.png", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`, "SVG drawing"},
		{"ELF renamed jpg", "photo.jpg", string(elf), "program"},
		{"MZ renamed jpg", "photo.jpg", "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + strings.Repeat("\x00", 100), "Windows program"},
		{"html", "story.jpg", "<!DOCTYPE html><html><body>hi</body></html>", "web page"},
		{"pdf", "scan.jpg", "%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "PDF"},
		{"text", "notes.mp3", "just some words about the patient\n", "text file"},
	}
	eachStore(t, func(t *testing.T, s storage.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := Ingest(context.Background(), s, "m/x", strings.NewReader(c.data), Options{DeclaredName: "C:\\fakepath\\" + c.declared})
				re := wantReject(t, err, ReasonType, c.want)
				if !strings.Contains(re.Msg, `"`+c.declared+`"`) || !strings.Contains(re.Msg, "Accepted are JPEG") {
					t.Fatalf("message should name the file and the accepted types: %q", re.Msg)
				}
				assertEmpty(t, s)
			})
		}
	})
}

func TestIngestRefusesBrokenUploads(t *testing.T) {
	photo := testJPEG(t, 400, 300)
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		_, err := Ingest(ctx, s, "m/x", bytes.NewReader(nil), Options{DeclaredName: "empty.jpg"})
		wantReject(t, err, ReasonEmpty, `"empty.jpg" is empty`)

		_, err = Ingest(ctx, s, "m/x", bytes.NewReader(photo[:len(photo)/2]), Options{})
		wantReject(t, err, ReasonDamaged, "damaged or incomplete")

		_, err = Ingest(ctx, s, "m/x", bytes.NewReader(photo), Options{Limits: Limits{Image: 1000}})
		wantReject(t, err, ReasonTooLarge, "This photo is larger than the 1000 bytes limit.")

		// Exactly at the limit is allowed.
		if _, err = Ingest(ctx, s, "m/ok", bytes.NewReader(photo), Options{Limits: Limits{Image: int64(len(photo))}}); err != nil {
			t.Fatalf("a photo exactly at the limit: %v", err)
		}
		if err := s.Delete(ctx, "m/ok"); err != nil {
			t.Fatal(err)
		}

		boom := errors.New("connection reset by client")
		_, err = Ingest(ctx, s, "m/x", &failingReader{data: photo, after: len(photo) / 2, err: boom}, Options{})
		if !errors.Is(err, boom) {
			t.Fatalf("want the reader's error, got %v", err)
		}

		cctx, cancel := context.WithCancel(ctx)
		_, err = Ingest(cctx, s, "m/x", &failingReader{data: photo, after: len(photo) / 2, hook: cancel}, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
		assertEmpty(t, s)
	})
}

// A failure storing the original must take the cleaned copy with it.
func TestIngestStorageFailureLeavesNothing(t *testing.T) {
	photo := testJPEG(t, 400, 300)
	eachStore(t, func(t *testing.T, s storage.Store) {
		flaky := &failingStore{Store: s, failPrefix: OriginalKeyPrefix}
		_, err := Ingest(context.Background(), flaky, "m/x", bytes.NewReader(photo), Options{KeepOriginal: true})
		if err == nil || !strings.Contains(err.Error(), "storage down") {
			t.Fatalf("want the storage error, got %v", err)
		}
		assertEmpty(t, s)
	})
}

// failingReader yields data up to after bytes, then calls hook (if any) and
// fails with err (or keeps going, for a hook that cancels the context).
type failingReader struct {
	data  []byte
	after int
	off   int
	err   error
	hook  func()
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.off >= f.after {
		if f.hook != nil {
			f.hook()
			f.hook = nil
		}
		if f.err != nil {
			return 0, f.err
		}
	}
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), max(f.after-f.off, 1))], f.data[f.off:])
	f.off += n
	return n, nil
}

// failingStore fails Puts under failPrefix after reading part of the body,
// as a store going down mid-upload would.
type failingStore struct {
	storage.Store
	failPrefix string
}

func (f *failingStore) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) (storage.Info, error) {
	if strings.HasPrefix(key, f.failPrefix) {
		io.CopyN(io.Discard, r, 100)
		return storage.Info{}, errors.New("storage down")
	}
	return f.Store.Put(ctx, key, r, size, ct)
}
