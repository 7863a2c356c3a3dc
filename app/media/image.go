package media

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
// The encoding is spooled to a temp file (closed and removed by done), so
// only the decoded pixels, which the decode budget accounts for, are held in
// memory.
type cleaned struct {
	file          *os.File
	size          int64
	sha256        string
	contentType   string
	width, height int
	degraded      string
}

func (c cleaned) done() {
	if c.file != nil {
		c.file.Close()
		os.Remove(c.file.Name())
	}
}

// encodeTo runs enc into a fresh temp file, hashing what it writes.
func encodeTo(c *cleaned, contentType string, enc func(w io.Writer) error) error {
	f, err := os.CreateTemp("", "storykeep-clean-*")
	if err != nil {
		return err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 64<<10)
	if err := enc(bw); err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("media: encode %s: %w", contentType, err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	c.file, c.size, c.sha256, c.contentType = f, size, hex.EncodeToString(h.Sum(nil)), contentType
	return nil
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
	defer c.done()
	res := Result{Key: key, Kind: KindImage, ContentType: c.contentType, Size: c.size,
		SHA256: c.sha256, Width: c.width, Height: c.height, Degraded: c.degraded}
	if _, err := store.Put(ctx, key, io.NewSectionReader(c.file, 0, c.size), res.Size, c.contentType); err != nil {
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
		return cleanGIF(ctx, io.NewSectionReader(f, 0, size), opts)
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
		return decodeAndEncode(ctx, io.NewSectionReader(j, 0, st.Size()), name, "image/jpeg", false, opts)
	}
	c, err := decodeAndEncode(ctx, io.NewSectionReader(f, 0, size), name, mime, mime == "image/jpeg", opts)
	if err == nil && mime == "image/vnd.mozilla.apng" {
		c.degraded = "animated PNG: only the first frame was kept"
	}
	return c, err
}

// decodeAndEncode checks the pixel count from the header before decoding,
// so a small file claiming huge dimensions is refused without allocating,
// then waits for the memory its pixels need within the process-wide decode
// budget (finding F9: a 150 KB PNG decodes to 200 MB).
func decodeAndEncode(ctx context.Context, r *io.SectionReader, name, mime string, orient bool, opts Options) (cleaned, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return cleaned{}, damaged(opts.DeclaredName, name)
	}
	if err := checkPixels(cfg.Width, cfg.Height, opts); err != nil {
		return cleaned{}, err
	}
	extra := 0.0
	if orient {
		extra = 4 // a rotated or flipped photo is copied into NRGBA
	}
	var c cleaned
	err = withDecodeBudget(ctx, sourceCost(r, cfg, format, extra), func() error {
		// Decoded as is (no conversion to NRGBA unless it must be rotated):
		// both encoders take any image type.
		img, err := imaging.Decode(io.NewSectionReader(r, 0, r.Size()), imaging.AutoOrientation(orient))
		if err != nil {
			return damaged(opts.DeclaredName, name)
		}
		c.width, c.height = img.Bounds().Dx(), img.Bounds().Dy()
		// JPEG stays JPEG; PNG stays lossless; WebP becomes JPEG unless it has
		// transparency, which only PNG keeps.
		if mime == "image/jpeg" || (mime == "image/webp" && isOpaque(img)) {
			return encodeTo(&c, "image/jpeg", func(w io.Writer) error { return jpeg.Encode(w, img, &jpeg.Options{Quality: 90}) })
		}
		return encodeTo(&c, "image/png", func(w io.Writer) error { return png.Encode(w, img) })
	})
	if err != nil {
		return cleaned{}, budgetRejection(err, cfg, opts)
	}
	return c, nil
}

// budgetRejection turns an image too large for the whole decode budget into
// a refusal the user can act on; other errors pass through.
func budgetRejection(err error, cfg image.Config, opts Options) error {
	var ob errOverBudget
	if !errors.As(err, &ob) {
		return err
	}
	return reject(ReasonTooManyPixels, "%s is %d × %d pixels and needs about %d MB of memory to process, more than the %d MB this server allows. Please resize it and try again.",
		subject(opts.DeclaredName), cfg.Width, cfg.Height, ob.cost>>20, ob.budget>>20)
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
