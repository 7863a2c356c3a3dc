package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

// exifJPEG is a 600×400 photo tagged with GPS, XMP, an artist and
// orientation 6 (rotate 90° clockwise to display), as a phone would write it.
func exifJPEG(t *testing.T) []byte {
	p := writeTemp(t, "phone.jpg", testJPEG(t, 600, 400))
	run(t, "exiftool", "-q", "-overwrite_original", "-GPSLatitude=40.7", "-GPSLatitudeRef=N",
		"-GPSLongitude=74", "-GPSLongitudeRef=W", "-Orientation#=6", "-Artist=Dr Example",
		"-XMP-dc:Subject=patient", p)
	tags := exifTags(t, p)
	if tags["EXIF:GPSLatitude"] == nil || tags["EXIF:Orientation"] == nil || tags["XMP:Subject"] == nil {
		t.Fatalf("fixture lacks the metadata the test relies on: %v", tags)
	}
	return readFile(t, p)
}

func exifTags(t *testing.T, path string) map[string]any {
	var out []map[string]any
	if err := json.Unmarshal(run(t, "exiftool", "-json", "-G", "-a", "-n", path), &out); err != nil || len(out) != 1 {
		t.Fatalf("exiftool json: %v %v", err, out)
	}
	return out[0]
}

func TestIngestStripsMetadataAndAppliesOrientation(t *testing.T) {
	src := exifJPEG(t)
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		res, err := Ingest(ctx, s, "m/photo", bytes.NewReader(src), Options{DeclaredName: "IMG_0001.jpg", KeepOriginal: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != KindImage || res.ContentType != "image/jpeg" || res.Width != 400 || res.Height != 600 {
			t.Fatalf("result %+v, want a 400×600 (rotated) JPEG", res)
		}
		data, path := fetch(t, s, "m/photo")
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != res.SHA256 || int64(len(data)) != res.Size {
			t.Fatalf("SHA256/Size do not describe the stored bytes")
		}
		for tag := range exifTags(t, path) {
			group, name, _ := strings.Cut(tag, ":")
			if group == "EXIF" || group == "XMP" || group == "ICC_Profile" || strings.Contains(name, "GPS") || name == "Orientation" {
				t.Errorf("stored photo still carries %s", tag)
			}
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// Rotating 90° clockwise moves the red top-left corner to the top right.
		if b := img.Bounds(); !isRed(img.At(b.Max.X-10, 10)) || isRed(img.At(10, 10)) {
			t.Fatal("orientation was not applied to the pixels")
		}
		// The original is kept, metadata and all, under its own prefix.
		if res.OriginalKey != OriginalKeyPrefix+"m/photo" {
			t.Fatalf("OriginalKey %q", res.OriginalKey)
		}
		if orig, _ := fetch(t, s, res.OriginalKey); !bytes.Equal(orig, src) {
			t.Fatal("original was not kept byte for byte")
		}
	})
}

// bombPNG claims 30000×30000 pixels (2.7 GB decoded) in a few hundred bytes.
func bombPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(data)>>24), byte(len(data)>>16), byte(len(data)>>8), byte(len(data))
		b.Write(n[:])
		body := append([]byte(typ), data...)
		b.Write(body)
		c := crc32IEEE(body)
		b.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
	}
	chunk("IHDR", []byte{0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0})
	chunk("IDAT", zlibZeros(64<<10))
	chunk("IEND", nil)
	return b.Bytes()
}

func TestIngestRefusesDecompressionBombWithoutAllocating(t *testing.T) {
	bomb := bombPNG()
	if len(bomb) > 2000 {
		t.Fatalf("bomb fixture is %d bytes, should be tiny", len(bomb))
	}
	eachStore(t, func(t *testing.T, s storage.Store) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Ingest(context.Background(), s, "m/bomb", bytes.NewReader(bomb), Options{DeclaredName: "x.png"})
		runtime.ReadMemStats(&after)
		wantReject(t, err, ReasonTooManyPixels, "30000 × 30000")
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Fatalf("refusing the bomb allocated %d MB", grew>>20)
		}
		assertEmpty(t, s)
	})
}

func wantReject(t *testing.T, err error, reason Reason, msgPart string) *RejectError {
	t.Helper()
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("want *RejectError(%s), got %v", reason, err)
	}
	if re.Reason != reason || !strings.Contains(re.Msg, msgPart) {
		t.Fatalf("got %s %q, want %s containing %q", re.Reason, re.Msg, reason, msgPart)
	}
	return re
}

func TestIngestAnimatedGIF(t *testing.T) {
	pal := color.Palette{color.White, color.RGBA{255, 0, 0, 255}}
	g := &gif.GIF{LoopCount: 0}
	for i := range 3 {
		f := image.NewPaletted(image.Rect(0, 0, 100, 100), pal)
		f.SetColorIndex(i*10, i*10, 1)
		g.Image, g.Delay = append(g.Image, f), append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		res, err := Ingest(ctx, s, "m/anim", bytes.NewReader(buf.Bytes()), Options{})
		if err != nil || res.ContentType != "image/gif" || res.Degraded != "" {
			t.Fatalf("small animation: %+v, %v", res, err)
		}
		data, _ := fetch(t, s, "m/anim")
		if got, err := gif.DecodeAll(bytes.NewReader(data)); err != nil || len(got.Image) != 3 {
			t.Fatalf("animation not kept: %v", err)
		}
		// 30,000 frame pixels over a 20,000 budget: first frame only, said so.
		res, err = Ingest(ctx, s, "m/anim2", bytes.NewReader(buf.Bytes()), Options{MaxPixels: 20000})
		if err != nil || res.ContentType != "image/png" || !strings.Contains(res.Degraded, "first frame") {
			t.Fatalf("large animation: %+v, %v", res, err)
		}
	})
}

func TestIngestWebP(t *testing.T) {
	dir := t.TempDir()
	in := writeTemp(t, "in.jpg", testJPEG(t, 64, 48))
	run(t, "ffmpeg", "-v", "error", "-i", in, dir+"/out.webp")
	eachStore(t, func(t *testing.T, s storage.Store) {
		res, err := Ingest(context.Background(), s, "m/w", bytes.NewReader(readFile(t, dir+"/out.webp")), Options{})
		if err != nil || res.ContentType != "image/jpeg" || res.Width != 64 || res.Height != 48 {
			t.Fatalf("%+v, %v", res, err)
		}
	})
}

func TestIngestHEICRefusedClearlyWhenNotConvertible(t *testing.T) {
	// A HEIC header with no image in it: no converter can read it, and ffmpeg
	// before 7.1 cannot read any HEIC.
	heic := append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 200)...)
	eachStore(t, func(t *testing.T, s storage.Store) {
		_, err := Ingest(context.Background(), s, "m/h", bytes.NewReader(heic), Options{DeclaredName: "IMG_1.HEIC"})
		wantReject(t, err, ReasonUnsupported, "upload it as a JPEG")
		assertEmpty(t, s)
	})
}

// HEIC conversion needs heif-convert (Debian: libheif-examples), which is
// optional for a server: without it this test skips, except in CI, where
// `make test` installs it.
func TestIngestHEICWithHeifConvert(t *testing.T) {
	for _, tool := range []string{"heif-enc", "heif-convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not installed (apt-get install -y libheif-examples): HEIC conversion untested"
			if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	jpg := writeTemp(t, "in.jpg", testJPEG(t, 600, 400))
	run(t, "exiftool", "-q", "-overwrite_original", "-GPSLatitude=40.7", "-GPSLatitudeRef=N",
		"-GPSLongitude=74", "-GPSLongitudeRef=W", jpg)
	heic := filepath.Join(t.TempDir(), "IMG_0002.HEIC")
	run(t, "heif-enc", "-q", "90", jpg, "-o", heic)
	if exifTags(t, heic)["EXIF:GPSLatitude"] == nil {
		t.Fatal("fixture HEIC carries no GPS")
	}
	eachStore(t, func(t *testing.T, s storage.Store) {
		res, err := Ingest(context.Background(), s, "m/h", bytes.NewReader(readFile(t, heic)), Options{KeepOriginal: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.ContentType != "image/jpeg" || res.Width != 600 || res.Height != 400 {
			t.Fatalf("%+v", res)
		}
		_, path := fetch(t, s, "m/h")
		for tag := range exifTags(t, path) {
			if strings.HasPrefix(tag, "EXIF:") || strings.Contains(tag, "GPS") {
				t.Errorf("converted HEIC still carries %s", tag)
			}
		}
		if info, err := s.Stat(context.Background(), res.OriginalKey); err != nil || info.ContentType != "image/heic" {
			t.Fatalf("original: %+v, %v", info, err)
		}
	})
}
