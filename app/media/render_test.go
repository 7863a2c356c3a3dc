package media

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

func TestCropRect(t *testing.T) {
	b := image.Rect(0, 0, 3000, 2000)
	cases := []struct {
		name   string
		aspect float64
		f      FocalPoint
		want   image.Rectangle
	}{
		{"centred when there is room", 1, FocalPoint{0.5, 0.5}, image.Rect(500, 0, 2500, 2000)},
		{"follows the focal point", 0.8, FocalPoint{0.7, 0.5}, image.Rect(1300, 0, 2900, 2000)},
		{"stops at the right edge", 1, FocalPoint{0.95, 0.5}, image.Rect(1000, 0, 3000, 2000)},
		{"stops at the top edge", 16.0 / 9, FocalPoint{0.5, 0.05}, image.Rect(0, 0, 3000, 1688)},
		{"stops at the bottom edge", 1200.0 / 630, FocalPoint{0.5, 1}, image.Rect(0, 425, 3000, 2000)},
	}
	for _, c := range cases {
		if got := cropRect(b, c.aspect, c.f); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRender draws a red square at the focal point and checks each
// rendition's exact size and that the square sits where the focal point
// should: centred where the crop could move, against the edge otherwise.
func TestRender(t *testing.T) {
	const W, H = 3000, 2000
	focal := FocalPoint{0.7, 0.35} // (2100, 700)
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(1900, 500, 2300, 900), image.NewUniform(color.RGBA{255, 0, 0, 255}), image.Point{}, draw.Src)
	var src bytes.Buffer
	if err := png.Encode(&src, img); err != nil {
		t.Fatal(err)
	}
	// Where the focal point lands in each rendition, worked out by hand.
	want := map[string]image.Point{
		"instagram-portrait": {540, 473}, // crop x 1300..2900: centred across
		"instagram-square":   {594, 378}, // crop x 1000..3000: against the right edge
		"opengraph":          {840, 280}, // full width, crop y 0..1575
		"x":                  {1120, 373},
		"thumbnail":          {220, 140},
	}
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		if _, err := Ingest(ctx, s, "m/p", bytes.NewReader(src.Bytes()), Options{}); err != nil {
			t.Fatal(err)
		}
		rs, err := Render(ctx, s, "m/p", focal, DefaultSpecs)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != len(DefaultSpecs) {
			t.Fatalf("%d renditions", len(rs))
		}
		for _, r := range rs {
			if r.Key != "m/p.r/"+r.Spec.Name+".jpg" || r.Note != "" {
				t.Errorf("%+v", r)
			}
			data, _ := fetch(t, s, r.Key)
			out, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := out.Bounds(); b.Dx() != r.Spec.Width || b.Dy() != r.Spec.Height || r.Width != b.Dx() || r.Height != b.Dy() {
				t.Errorf("%s: stored %v, rendition says %d×%d", r.Spec.Name, b, r.Width, r.Height)
			}
			if c := redCentre(out); math.Hypot(float64(c.X-want[r.Spec.Name].X), float64(c.Y-want[r.Spec.Name].Y)) > 4 {
				t.Errorf("%s: red square centred at %v, want %v", r.Spec.Name, c, want[r.Spec.Name])
			}
		}
		// The source (PNG here) is left alone.
		if len(keys(t, s)) != 1+len(DefaultSpecs) {
			t.Fatalf("keys %v", keys(t, s))
		}
	})
}

func TestRenderNeverUpscales(t *testing.T) {
	small := testJPEG(t, 800, 600)
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		if _, err := Ingest(ctx, s, "m/small", bytes.NewReader(small), Options{}); err != nil {
			t.Fatal(err)
		}
		rs, err := Render(ctx, s, "m/small", FocalPoint{0.5, 0.5}, []Spec{{"instagram-portrait", 1080, 1350}, {"thumbnail", 400, 400}})
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[0]; r.Width != 480 || r.Height != 600 || !strings.Contains(r.Note, "rather than upscaled") {
			t.Errorf("portrait from 800×600: %+v", r)
		}
		if r := rs[1]; r.Width != 400 || r.Height != 400 || r.Note != "" {
			t.Errorf("thumbnail from 800×600: %+v", r)
		}
		data, _ := fetch(t, s, rs[0].Key)
		if cfg := decodeConfig(t, data); cfg.Width != 480 || cfg.Height != 600 {
			t.Errorf("stored %d×%d", cfg.Width, cfg.Height)
		}
	})
}

func TestRenderRefusesBadInput(t *testing.T) {
	s, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Render(ctx, s, "m/x", FocalPoint{1.5, 0}, DefaultSpecs); err == nil {
		t.Error("focal point outside the image accepted")
	}
	if _, err := Render(ctx, s, "m/x", FocalPoint{}, []Spec{{"../x", 10, 10}}); err == nil {
		t.Error("spec name with a path accepted")
	}
	if _, err := Render(ctx, s, "m/missing", FocalPoint{}, DefaultSpecs); err == nil {
		t.Error("missing source accepted")
	}
}

// redCentre is the centre of the red pixels' bounding box.
func redCentre(img image.Image) image.Point {
	b := img.Bounds()
	box := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if isRed(img.At(x, y)) {
				box.Min.X, box.Min.Y = min(box.Min.X, x), min(box.Min.Y, y)
				box.Max.X, box.Max.Y = max(box.Max.X, x+1), max(box.Max.Y, y+1)
			}
		}
	}
	return image.Pt((box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2)
}
