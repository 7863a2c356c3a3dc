package media

import (
	"bufio"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"io"
	"runtime/debug"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultDecodeBudget is the memory, in bytes, that all image decodes of this
// process may hold at once (STORYKEEP_IMAGE_DECODE_BUDGET_MB). 320 MiB lets a
// 48-megapixel phone photo (YCbCr 4:2:0 plus its rotated copy, about 270 MB)
// through, while two 49-megapixel RGBA images (196 MB each) take turns.
const DefaultDecodeBudget int64 = 320 << 20

// decodeBudget is one process-wide weighted semaphore: a decode takes as many
// units as the bytes its pixels will occupy, computed from the header before
// anything is decoded, and waits (or gives up with its context) when the
// budget is spent. A weighted semaphore (golang.org/x/sync/semaphore) rather
// than a count of decodes, because a thumbnail and a 49-megapixel PNG differ
// by a thousand times in memory.
var decodeBudget = struct {
	sync.Mutex
	sem  *semaphore.Weighted
	size int64
}{sem: semaphore.NewWeighted(DefaultDecodeBudget), size: DefaultDecodeBudget}

// SetDecodeBudget sets the process-wide image decode budget in bytes (0 or
// less: the default). Call it at start, before any upload or rendition runs.
func SetDecodeBudget(n int64) {
	if n <= 0 {
		n = DefaultDecodeBudget
	}
	decodeBudget.Lock()
	defer decodeBudget.Unlock()
	decodeBudget.sem, decodeBudget.size = semaphore.NewWeighted(n), n
}

// DecodeBudget reports the process-wide image decode budget in bytes.
func DecodeBudget() int64 {
	decodeBudget.Lock()
	defer decodeBudget.Unlock()
	return decodeBudget.size
}

// errOverBudget is returned by withDecodeBudget for an image that could never
// fit the budget, even alone.
type errOverBudget struct{ cost, budget int64 }

func (e errOverBudget) Error() string {
	return "media: image needs more memory to decode than the decode budget"
}

// withDecodeBudget runs fn, which decodes and encodes one image, once cost
// bytes of the budget are free. An image costing more than the whole budget
// is refused at once. fn must keep no reference to the decoded pixels after
// it returns: large decodes are followed by a collection that hands their
// memory back to the operating system, so peak RSS tracks the budget rather
// than the garbage collector's growth target.
func withDecodeBudget(ctx context.Context, cost int64, fn func() error) error {
	decodeBudget.Lock()
	sem, size := decodeBudget.sem, decodeBudget.size
	decodeBudget.Unlock()
	if cost > size {
		return errOverBudget{cost, size}
	}
	if err := sem.Acquire(ctx, cost); err != nil {
		return err
	}
	err := fn()
	if cost >= 32<<20 {
		debug.FreeOSMemory()
	}
	sem.Release(cost)
	return err
}

// decodeOverhead covers a decoder's own buffers (zlib window, Huffman tables,
// row buffers) beyond the pixels.
const decodeOverhead = 1 << 20

// pixelBytes estimates the bytes one decoded pixel of this colour model
// occupies in Go's image types: the decoders allocate exactly one image of
// that type. Unknown models count as 16-bit RGBA, the widest.
func pixelBytes(m color.Model) float64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4; JPEG's real subsampling is read by jpegPixelBytes
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// decodeCost is the memory a decode of cfg needs, plus extra bytes per pixel
// for copies the caller makes (a rotation, a flattened background).
func decodeCost(cfg image.Config, bpp, extra float64) int64 {
	return int64(float64(cfg.Width)*float64(cfg.Height)*(bpp+extra)) + decodeOverhead
}

// sourceCost is the memory decoding the image in r takes, read from its
// header: the pixels in Go's image type for its colour model, with what the
// decoders keep beside them (a progressive JPEG's coefficients, an
// interlaced PNG's passes), plus extra bytes per pixel for copies the caller
// makes (a rotation, a flattened background).
func sourceCost(r io.ReaderAt, cfg image.Config, format string, extra float64) int64 {
	bpp := pixelBytes(cfg.ColorModel)
	head := io.NewSectionReader(r, 0, 1<<62)
	switch {
	case format == "jpeg" && cfg.ColorModel == color.YCbCrModel:
		bpp = jpegPixelBytes(head, 3)
	case format == "jpeg":
		if jpegProgressive(head) {
			bpp += 4 * bpp
		}
	case format == "png":
		var ihdr [29]byte
		if _, err := io.ReadFull(head, ihdr[:]); err == nil && ihdr[28] == 1 {
			bpp *= 2 // Adam7: the seven passes, then the merged image
		}
	}
	return decodeCost(cfg, bpp, extra)
}

// jpegPixelBytes reads a three-component JPEG's frame header for its
// sampling factors: Go stores Y at full size and Cb, Cr subsampled, so a
// 4:2:0 photo costs 1.5 bytes per pixel, not 3; a progressive one also keeps
// every coefficient (4 bytes a sample) until the end. It returns fallback
// when the header cannot be read.
func jpegPixelBytes(r io.Reader, fallback float64) float64 {
	seg, progressive := jpegFrame(r)
	if len(seg) < 6+9 || seg[5] != 3 {
		return fallback
	}
	hmax, vmax := 1, 1
	hs, vs := make([]int, 3), make([]int, 3)
	for i := range 3 {
		f := seg[6+3*i+1]
		hs[i], vs[i] = max(int(f>>4), 1), max(int(f&0x0F), 1)
		hmax, vmax = max(hmax, hs[i]), max(vmax, vs[i])
	}
	samples := 1.0 // Y at full resolution
	for i := 1; i < 3; i++ {
		samples += float64(hs[i]*vs[i]) / float64(hmax*vmax)
	}
	samples = max(samples, 1.5) // chroma is never stored smaller than 4:2:0 here
	if progressive {
		return samples * 5
	}
	return samples
}

func jpegProgressive(r io.Reader) bool {
	_, p := jpegFrame(r)
	return p
}

// jpegFrame returns the payload of a JPEG's start-of-frame segment and
// whether it is progressive, walking marker segments without decoding.
func jpegFrame(r io.Reader) (seg []byte, progressive bool) {
	br := bufio.NewReader(r)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return nil, false
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, false
		}
		if b != 0xFF {
			continue
		}
		m, err := br.ReadByte()
		for err == nil && m == 0xFF {
			m, err = br.ReadByte()
		}
		if err != nil || m == 0xD9 || m == 0xDA {
			return nil, false // end of image or scan data before any frame
		}
		if m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			continue // markers without a length
		}
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(l[:])) - 2
		if n < 0 {
			return nil, false
		}
		if m < 0xC0 || m > 0xCF || m == 0xC4 || m == 0xC8 || m == 0xCC {
			if _, err := br.Discard(n); err != nil {
				return nil, false
			}
			continue
		}
		seg = make([]byte, n)
		if _, err := io.ReadFull(br, seg); err != nil {
			return nil, false
		}
		return seg, m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
	}
}
