package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Photo draws the i'th demo photo: a landscape (sky, sun or moon, rolling
// hills, a path and trees) whose palette, light and shapes come from i, so
// every story's pictures differ and their renditions show real crops. It is
// encoded as a JPEG and goes through the media pipeline like an upload.
func Photo(i, w, h int) ([]byte, error) {
	r := rand.New(rand.NewPCG(uint64(i), 2026))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	pal := palettes[i%len(palettes)]
	// Sky: a vertical gradient with a little noise.
	horizon := h*45/100 + r.IntN(h/6)
	for y := 0; y < h; y++ {
		t := float64(y) / float64(horizon)
		c := mix(pal.skyTop, pal.skyLow, math.Min(t, 1))
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	// Sun (or moon) with a soft halo.
	sx, sy, sr := w/5+r.IntN(w*3/5), horizon/4+r.IntN(horizon/3), float64(h)/14+float64(r.IntN(h/14))
	for y := max(0, sy-int(sr*3)); y < min(h, sy+int(sr*3)); y++ {
		for x := max(0, sx-int(sr*3)); x < min(w, sx+int(sr*3)); x++ {
			d := math.Hypot(float64(x-sx), float64(y-sy))
			switch {
			case d <= sr:
				img.SetRGBA(x, y, pal.sun)
			case d <= sr*3:
				img.SetRGBA(x, y, mix(img.RGBAAt(x, y), pal.sun, 0.35*(1-(d-sr)/(sr*2))))
			}
		}
	}
	// Three ranges of hills, far to near, each darker.
	for layer := 0; layer < 3; layer++ {
		base := float64(horizon + layer*(h-horizon)/4)
		amp := float64(h) / float64(10+layer*4)
		f1, f2, ph := 1.5+r.Float64()*2.5, 4+r.Float64()*5, r.Float64()*math.Pi*2
		c := mix(pal.hill, color.RGBA{0, 0, 0, 255}, float64(layer)*0.22)
		for x := 0; x < w; x++ {
			fx := float64(x) / float64(w)
			top := int(base - amp*(0.6*math.Sin(fx*f1*math.Pi+ph)+0.4*math.Sin(fx*f2*math.Pi+ph*2)))
			for y := max(0, top); y < h; y++ {
				shade := mix(c, pal.skyLow, 0.12*float64(2-layer)*(1-float64(y-top)/float64(h)))
				img.SetRGBA(x, y, shade)
			}
		}
	}
	// A path winding towards the horizon.
	for y := horizon + (h-horizon)/3; y < h; y++ {
		t := float64(y-horizon) / float64(h-horizon)
		cx := float64(w)/2 + math.Sin(t*5+float64(i))*float64(w)/8*t
		half := 4 + t*float64(w)/9
		for x := int(cx - half); x < int(cx+half); x++ {
			if x >= 0 && x < w {
				img.SetRGBA(x, y, mix(img.RGBAAt(x, y), pal.path, 0.8))
			}
		}
	}
	// Trees: trunks and round crowns.
	for n := 0; n < 4+r.IntN(7); n++ {
		tx, ty := r.IntN(w), horizon+r.IntN(max(1, (h-horizon)*2/3))
		size := float64(h) / 30 * (1 + float64(ty-horizon)/float64(h-horizon)*2)
		fillRect(img, tx-int(size/6), ty, tx+int(size/6), ty+int(size*1.2), color.RGBA{70, 50, 35, 255})
		disc(img, tx, ty-int(size/2), size, mix(pal.tree, color.RGBA{0, 0, 0, 255}, r.Float64()*0.3))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type palette struct{ skyTop, skyLow, sun, hill, path, tree color.RGBA }

var palettes = []palette{
	{rgb(40, 90, 170), rgb(170, 210, 240), rgb(255, 240, 190), rgb(90, 150, 80), rgb(210, 190, 140), rgb(40, 110, 50)},    // summer noon
	{rgb(60, 30, 90), rgb(250, 150, 90), rgb(255, 210, 120), rgb(120, 80, 90), rgb(230, 170, 120), rgb(60, 60, 50)},       // sunset
	{rgb(10, 20, 50), rgb(50, 70, 120), rgb(240, 240, 220), rgb(40, 60, 70), rgb(120, 120, 130), rgb(20, 40, 40)},         // moonlight
	{rgb(120, 170, 210), rgb(230, 235, 240), rgb(255, 255, 235), rgb(235, 240, 245), rgb(190, 180, 170), rgb(50, 80, 70)}, // winter
	{rgb(230, 120, 60), rgb(250, 220, 150), rgb(255, 250, 200), rgb(170, 120, 50), rgb(220, 200, 160), rgb(150, 60, 30)},  // autumn
	{rgb(90, 160, 200), rgb(200, 235, 230), rgb(255, 250, 210), rgb(60, 170, 140), rgb(240, 220, 170), rgb(30, 120, 80)},  // coast
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

func mix(a, b color.RGBA, t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	l := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

func fillRect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	b := img.Bounds()
	for y := max(y0, b.Min.Y); y < min(y1, b.Max.Y); y++ {
		for x := max(x0, b.Min.X); x < min(x1, b.Max.X); x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func disc(img *image.RGBA, cx, cy int, r float64, c color.RGBA) {
	fillCircle := func(x, y int) bool { return math.Hypot(float64(x-cx), float64(y-cy)) <= r }
	b := img.Bounds()
	for y := max(cy-int(r), b.Min.Y); y <= min(cy+int(r), b.Max.Y-1); y++ {
		for x := max(cx-int(r), b.Min.X); x <= min(cx+int(r), b.Max.X-1); x++ {
			if fillCircle(x, y) {
				img.SetRGBA(x, y, c)
			}
		}
	}
}
