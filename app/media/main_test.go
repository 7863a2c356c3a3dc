package media

import (
	"bytes"
	"compress/zlib"
	"context"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
)

func TestMain(m *testing.M) { os.Exit(miniotest.Run(m)) }

// eachStore runs fn against a fresh local store and a fresh MinIO bucket,
// so every behaviour is checked on both implementations.
func eachStore(t *testing.T, fn func(t *testing.T, s storage.Store)) {
	t.Helper()
	t.Run("local", func(t *testing.T) {
		s, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("minio", func(t *testing.T) {
		s, err := storage.NewS3(context.Background(), miniotest.Start(t))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// needTool skips without the tool, except in CI, where a skip would hide
// that the metadata and video checks never ran.
func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	msg := name + " is not installed; install it with `apt-get install -y libimage-exiftool-perl ffmpeg`"
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// run runs a tool that the test needs, failing the test with its output.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	needTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

// keys lists everything in the store, to prove a failure left nothing.
func keys(t testing.TB, s storage.Store) []string {
	t.Helper()
	var ks []string
	if err := s.List(context.Background(), "", func(i storage.Info) error {
		ks = append(ks, i.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ks
}

func assertEmpty(t testing.TB, s storage.Store) {
	t.Helper()
	if ks := keys(t, s); len(ks) != 0 {
		t.Fatalf("store should be empty after a failure, has %v", ks)
	}
}

// fetch downloads a stored object into memory and into a temp file (for exiftool).
func fetch(t testing.TB, s storage.Store, key string) ([]byte, string) {
	t.Helper()
	rc, _, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "fetched")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b, p
}

// testJPEG is a white w×h photo with a red block in its top-left corner, so
// a test can tell where that corner went after rotation.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if x < w/4 && y < h/4 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0xc000 && g < 0x4000 && b < 0x4000
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func zlibZeros(n int) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(make([]byte, n))
	w.Close()
	return b.Bytes()
}

func decodeConfig(t testing.TB, b []byte) image.Config {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
