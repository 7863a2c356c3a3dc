package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode

	"github.com/storykeep/storykeep/app/storage"
)

// cleaned is a re-encoded image: only pixels survive, no EXIF, GPS, XMP or ICC.
type cleaned struct {
	data          []byte
	contentType   string
	width, height int
	degraded      string
}

// ingestImage spools the upload to a temp file (photos must be decoded
// whole anyway), re-encodes it and stores the clean copy.
func ingestImage(ctx context.Context, store storage.Store, key string, src *limitReader, mime string, opts Options) (Result, error) {
	tmp, size, err := spool(src)
	if err != nil {
		return Result{}, src.failed("read upload", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	c, err := cleanImage(ctx, tmp, size, mime, opts)
	if err != nil {
		return Result{}, err
	}
	sum := sha256.Sum256(c.data)
	res := Result{Key: key, Kind: KindImage, ContentType: c.contentType, Size: int64(len(c.data)),
		SHA256: hex.EncodeToString(sum[:]), Width: c.width, Height: c.height, Degraded: c.degraded}
	if _, err := store.Put(ctx, key, bytes.NewReader(c.data), res.Size, c.contentType); err != nil {
		return Result{}, fmt.Errorf("media: store %q: %w", key, err)
	}
	if opts.KeepOriginal {
		res.OriginalKey = OriginalKeyPrefix + key
		if _, err := store.Put(ctx, res.OriginalKey, io.NewSectionReader(tmp, 0, size), size, accepted[mime].contentType); err != nil {
			return Result{}, discard(ctx, store, fmt.Errorf("media: store original %q: %w", res.OriginalKey, err), key)
		}
	}
	if err := ctx.Err(); err != nil { // cancelled after the last write: honour it
		return Result{}, discard(ctx, store, err, key, res.OriginalKey)
	}
	return res, nil
}

// spool copies the upload to a temp file the caller removes.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "storykeep-upload-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

func cleanImage(ctx context.Context, f *os.File, size int64, mime string, opts Options) (cleaned, error) {
	name := accepted[mime].name
	switch mime {
	case "image/gif":
		return cleanGIF(io.NewSectionReader(f, 0, size), opts)
	case "image/heic", "image/heic-sequence", "image/heif", "image/heif-sequence":
		jpg, done, err := heicToJPEG(ctx, f.Name(), opts.DeclaredName)
		if err != nil {
			return cleaned{}, err
		}
		defer done()
		j, err := os.Open(jpg)
		if err != nil {
			return cleaned{}, err
		}
		defer j.Close()
		st, err := j.Stat()
		if err != nil {
			return cleaned{}, err
		}
		// The converter has already applied the HEIF rotation.
		return decodeAndEncode(io.NewSectionReader(j, 0, st.Size()), name, "image/jpeg", false, opts)
	}
	c, err := decodeAndEncode(io.NewSectionReader(f, 0, size), name, mime, mime == "image/jpeg", opts)
	if err == nil && mime == "image/vnd.mozilla.apng" {
		c.degraded = "animated PNG: only the first frame was kept"
	}
	return c, err
}

// decodeAndEncode checks the pixel count from the header before decoding,
// so a small file claiming huge dimensions is refused without allocating.
func decodeAndEncode(r *io.SectionReader, name, mime string, orient bool, opts Options) (cleaned, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return cleaned{}, damaged(opts.DeclaredName, name)
	}
	if err := checkPixels(cfg.Width, cfg.Height, opts); err != nil {
		return cleaned{}, err
	}
	img, err := imaging.Decode(io.NewSectionReader(r, 0, r.Size()), imaging.AutoOrientation(orient))
	if err != nil {
		return cleaned{}, damaged(opts.DeclaredName, name)
	}
	var buf bytes.Buffer
	c := cleaned{width: img.Bounds().Dx(), height: img.Bounds().Dy()}
	// JPEG stays JPEG; PNG stays lossless; WebP becomes JPEG unless it has
	// transparency, which only PNG keeps.
	if mime == "image/jpeg" || (mime == "image/webp" && isOpaque(img)) {
		c.contentType, err = "image/jpeg", jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	} else {
		c.contentType, err = "image/png", png.Encode(&buf, img)
	}
	if err != nil {
		return cleaned{}, fmt.Errorf("media: encode %s: %w", c.contentType, err)
	}
	c.data = buf.Bytes()
	return c, nil
}

func checkPixels(w, h int, opts Options) error {
	if w <= 0 || h <= 0 {
		return reject(ReasonDamaged, "%s has no pixels (%d × %d).", subject(opts.DeclaredName), w, h)
	}
	if int64(w)*int64(h) > opts.MaxPixels {
		return reject(ReasonTooManyPixels, "%s is %d × %d pixels, more than the %d megapixel limit. Please resize it and try again.",
			subject(opts.DeclaredName), w, h, opts.MaxPixels/1_000_000)
	}
	return nil
}

func damaged(declared, name string) *RejectError {
	return reject(ReasonDamaged, "%s looks like %s but could not be read; it may be damaged or incomplete.", subject(declared), name)
}

func isOpaque(img image.Image) bool {
	o, ok := img.(interface{ Opaque() bool })
	return ok && o.Opaque()
}
