package media

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/png"
	"io"
)

// cleanGIF keeps the animation when all its frames together fit the pixel
// budget (frames are one byte per pixel, so this bounds memory); otherwise it
// keeps the first frame as a PNG and says so. Go's GIF encoder writes no
// comment or XMP extensions, so re-encoding drops them.
func cleanGIF(ctx context.Context, r *io.SectionReader, opts Options) (cleaned, error) {
	name := accepted["image/gif"].name
	cfg, err := gif.DecodeConfig(r)
	if err != nil {
		return cleaned{}, damaged(opts.DeclaredName, name)
	}
	if err := checkPixels(cfg.Width, cfg.Height, opts); err != nil {
		return cleaned{}, err
	}
	frames, pixels, err := gifFrames(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || frames == 0 {
		return cleaned{}, damaged(opts.DeclaredName, name)
	}
	c := cleaned{width: cfg.Width, height: cfg.Height}
	if pixels <= opts.MaxPixels {
		// Every frame is one byte per pixel (paletted), kept until encoded.
		err := withDecodeBudget(ctx, pixels+decodeOverhead, func() error {
			g, err := gif.DecodeAll(io.NewSectionReader(r, 0, r.Size()))
			if err != nil {
				return damaged(opts.DeclaredName, name)
			}
			return encodeTo(&c, "image/gif", func(w io.Writer) error { return gif.EncodeAll(w, g) })
		})
		if err != nil {
			return cleaned{}, budgetRejection(err, image.Config{Width: cfg.Width, Height: cfg.Height}, opts)
		}
		return c, nil
	}
	// The first frame (one byte a pixel) drawn on an NRGBA canvas (four).
	cost := int64(cfg.Width)*int64(cfg.Height)*5 + decodeOverhead
	err = withDecodeBudget(ctx, cost, func() error {
		first, err := gif.Decode(io.NewSectionReader(r, 0, r.Size()))
		if err != nil {
			return damaged(opts.DeclaredName, name)
		}
		canvas := image.NewNRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
		draw.Draw(canvas, first.Bounds(), first, first.Bounds().Min, draw.Src)
		return encodeTo(&c, "image/png", func(w io.Writer) error { return png.Encode(w, canvas) })
	})
	if err != nil {
		return cleaned{}, budgetRejection(err, image.Config{Width: cfg.Width, Height: cfg.Height}, opts)
	}
	c.degraded = fmt.Sprintf("animated GIF with %d frames is too large to keep animated: only the first frame was kept", frames)
	return c, nil
}

// gifFrames counts frames and their pixels by walking the block structure,
// without decompressing anything.
func gifFrames(r io.Reader) (frames int, pixels int64, err error) {
	br := bufio.NewReader(r)
	var hdr [13]byte // signature, version, logical screen descriptor
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, 0, err
	}
	if err := skipColorTable(br, hdr[10]); err != nil {
		return 0, 0, err
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			return frames, pixels, nil // a missing trailer is common and harmless
		}
		switch b {
		case 0x21: // extension: label, then sub-blocks
			if _, err := br.ReadByte(); err != nil {
				return 0, 0, err
			}
		case 0x2C: // image descriptor: x, y, w, h, flags; colour table; LZW code size
			var d [10]byte
			if _, err := io.ReadFull(br, d[:9]); err != nil {
				return 0, 0, err
			}
			w, h := binary.LittleEndian.Uint16(d[4:]), binary.LittleEndian.Uint16(d[6:])
			frames, pixels = frames+1, pixels+int64(w)*int64(h)
			if err := skipColorTable(br, d[8]); err != nil {
				return 0, 0, err
			}
			if _, err := br.ReadByte(); err != nil {
				return 0, 0, err
			}
		case 0x3B:
			return frames, pixels, nil
		default:
			return 0, 0, errors.New("gif: unknown block")
		}
		if err := skipSubBlocks(br); err != nil {
			return 0, 0, err
		}
	}
}

func skipColorTable(br *bufio.Reader, flags byte) error {
	if flags&0x80 == 0 {
		return nil
	}
	_, err := br.Discard(3 << ((flags & 7) + 1))
	return err
}

func skipSubBlocks(br *bufio.Reader) error {
	for {
		n, err := br.ReadByte()
		if err != nil || n == 0 {
			return err
		}
		if _, err := br.Discard(int(n)); err != nil {
			return err
		}
	}
}
