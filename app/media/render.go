package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"math"
	"regexp"

	"github.com/disintegration/imaging"

	"github.com/storykeep/storykeep/app/storage"
)

// FocalPoint is where the subject is, as fractions of the width and height
// (0,0 top left; 0.5,0.5 centre), so crops for every channel keep the face
// in frame. The zero value is the top-left corner, not the centre.
type FocalPoint struct{ X, Y float64 }

// Spec is one channel's picture size; Name becomes part of the key.
type Spec struct {
	Name          string
	Width, Height int
}

// DefaultSpecs are the sizes the social channels ask for, so editors do not
// have to know them.
var DefaultSpecs = []Spec{
	{"instagram-portrait", 1080, 1350},
	{"instagram-square", 1080, 1080},
	{"opengraph", 1200, 630}, // Facebook, LinkedIn and link previews
	{"x", 1600, 900},
	{"thumbnail", 400, 400},
}

// Rendition is one stored crop, with what a caller records about it.
type Rendition struct {
	Spec          Spec
	Key           string
	Width, Height int // may be below Spec's: sources are never upscaled
	Size          int64
	SHA256        string
	// Note explains a rendition smaller than asked for; empty otherwise.
	Note string
}

var specName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// RenditionKey is where Render stores a spec's crop of srcKey, so callers
// can find or delete renditions without a database row per size.
func RenditionKey(srcKey, name string) string { return srcKey + ".r/" + name + ".jpg" }

// Render crops and scales a stored (already cleaned) image for each spec,
// keeping the focal point as central as the image edges allow, and stores
// JPEGs at RenditionKey. Either all renditions are stored or none are.
func Render(ctx context.Context, store storage.Store, srcKey string, focal FocalPoint, specs []Spec) ([]Rendition, error) {
	if !(focal.X >= 0 && focal.X <= 1 && focal.Y >= 0 && focal.Y <= 1) {
		return nil, fmt.Errorf("media: focal point %v outside 0..1", focal)
	}
	for _, s := range specs {
		if !specName.MatchString(s.Name) || s.Width <= 0 || s.Height <= 0 {
			return nil, fmt.Errorf("media: invalid rendition spec %+v", s)
		}
	}
	var out []Rendition
	err := withStoredImage(ctx, store, srcKey, specs, func(src image.Image) error {
		var written []string
		for _, s := range specs {
			rect := cropRect(src.Bounds(), float64(s.Width)/float64(s.Height), focal)
			r := Rendition{Spec: s, Key: RenditionKey(srcKey, s.Name), Width: s.Width, Height: s.Height}
			img := subImage(src, rect) // no copy: Resize reads the rectangle in place
			if rect.Dx() < s.Width || rect.Dy() < s.Height {
				r.Width, r.Height = rect.Dx(), rect.Dy()
				r.Note = fmt.Sprintf("source too small for %d×%d: kept at %d×%d rather than upscaled", s.Width, s.Height, r.Width, r.Height)
			} else {
				img = imaging.Resize(img, s.Width, s.Height, imaging.Lanczos)
			}
			if err := putJPEG(ctx, store, &r, img); err != nil {
				return discard(ctx, store, err, written...)
			}
			written = append(written, r.Key)
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// subImage is img's rectangle r, sharing its pixels when the type allows.
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	return imaging.Crop(img, r)
}

// withStoredImage decodes a stored image, refusing oversized headers like
// Ingest, flattens transparency onto white because JPEG has no alpha, and
// runs fn with it inside the process-wide decode budget. The cost counts the
// decoded source, the white canvas when it has transparency, and the widest
// spec's intermediate resize (spec width × source height, NRGBA).
func withStoredImage(ctx context.Context, store storage.Store, key string, specs []Spec, fn func(image.Image) error) error {
	rc, _, err := store.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("media: open %q: %w", key, err)
	}
	defer rc.Close()
	var head bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(rc, &head))
	if err != nil {
		return fmt.Errorf("media: %q is not a decodable image: %w", key, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > DefaultMaxPixels {
		return fmt.Errorf("media: %q is %d×%d, over %d pixels", key, cfg.Width, cfg.Height, DefaultMaxPixels)
	}
	widest := 0
	for _, s := range specs {
		widest = max(widest, s.Width)
	}
	extra := 4.0 // a flattened canvas, assumed: opacity is known only after decoding
	if cfg.Width > 0 {
		extra += 4 * float64(min(widest, cfg.Width)) / float64(cfg.Width)
	}
	cost := sourceCost(bytes.NewReader(head.Bytes()), cfg, format, extra)
	err = withDecodeBudget(ctx, cost, func() error {
		img, _, err := image.Decode(io.MultiReader(&head, rc))
		if err != nil {
			return fmt.Errorf("media: decode %q: %w", key, err)
		}
		if !isOpaque(img) {
			bg := imaging.New(img.Bounds().Dx(), img.Bounds().Dy(), color.White)
			draw.Draw(bg, bg.Bounds(), img, img.Bounds().Min, draw.Over)
			img = bg
		}
		return fn(img)
	})
	var ob errOverBudget
	if errors.As(err, &ob) {
		return fmt.Errorf("media: %q needs %d MB to decode, over the %d MB decode budget", key, ob.cost>>20, ob.budget>>20)
	}
	return err
}

// cropRect is the largest rectangle of the given aspect inside b, placed so
// the focal point is as near its centre as the edges allow.
func cropRect(b image.Rectangle, aspect float64, f FocalPoint) image.Rectangle {
	w, h := b.Dx(), b.Dy()
	cw, ch := w, int(math.Round(float64(w)/aspect))
	if ch > h {
		cw, ch = int(math.Round(float64(h)*aspect)), h
	}
	cw, ch = max(cw, 1), max(ch, 1)
	x := clamp(int(math.Round(f.X*float64(w)-float64(cw)/2)), 0, w-cw)
	y := clamp(int(math.Round(f.Y*float64(h)-float64(ch)/2)), 0, h-ch)
	return image.Rect(x, y, x+cw, y+ch).Add(b.Min)
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

// putJPEG encodes without metadata, stores, and fills in r's size and hash.
func putJPEG(ctx context.Context, store storage.Store, r *Rendition, img image.Image) error {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return fmt.Errorf("media: encode %q: %w", r.Key, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	r.Size, r.SHA256 = int64(buf.Len()), hex.EncodeToString(sum[:])
	if _, err := store.Put(ctx, r.Key, &buf, r.Size, "image/jpeg"); err != nil {
		return fmt.Errorf("media: store %q: %w", r.Key, err)
	}
	return nil
}
