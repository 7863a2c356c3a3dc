// Package mediatest makes media files for tests without fixtures on disk.
package mediatest

import (
	"encoding/binary"
	"io"
)

// WAV returns a reader of a valid 16-bit stereo PCM WAV of exactly size
// bytes (at least 44): the header, then a cheap repeating waveform. It is
// generated as it is read, so a gigabyte costs no memory.
func WAV(size int64) io.Reader {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(size-8))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], 2)
	binary.LittleEndian.PutUint32(h[24:], 44100)
	binary.LittleEndian.PutUint32(h[28:], 44100*4)
	binary.LittleEndian.PutUint16(h[32:], 4)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(size-44))
	return &wav{size: size, hdr: h}
}

type wav struct {
	size, off int64
	hdr       []byte
}

func (w *wav) Read(p []byte) (int, error) {
	if w.off >= w.size {
		return 0, io.EOF
	}
	if rem := w.size - w.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	for i := range p {
		if o := w.off + int64(i); o < 44 {
			p[i] = w.hdr[o]
		} else {
			p[i] = byte(o * 7)
		}
	}
	w.off += int64(len(p))
	return len(p), nil
}
