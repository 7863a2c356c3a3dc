// Package media is the one door every uploaded photo, video and recording
// passes through: it decides from the bytes what a file really is, enforces
// size limits while streaming, strips identifying metadata (EXIF, GPS) from
// photos, and records a SHA-256 of what was stored, so that nothing reaches
// storage that the hospital cannot vouch for.
package media

import (
	"time"
)

// Kind groups accepted types by how they are handled and limited: photos are
// decoded and re-encoded, audio and video are streamed through unchanged.
type Kind string

// The kinds Ingest accepts.
const (
	KindImage Kind = "image"
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

// Limits caps upload sizes per kind in bytes, because a photo, an interview
// recording and a video differ by orders of magnitude and one cap cannot fit
// all three. A zero field means the default.
type Limits struct{ Image, Audio, Video int64 }

// DefaultLimits are generous for phone cameras and long interviews while
// keeping one upload from filling a disk.
var DefaultLimits = Limits{Image: 30 << 20, Audio: 500 << 20, Video: 4 << 30}

// DefaultMaxPixels bounds decoded photo size (about 200 MB in memory): enough
// for any phone camera, small enough that a decompression bomb is refused.
const DefaultMaxPixels = 50_000_000

// Options tune one Ingest call; the zero value uses the defaults.
type Options struct {
	Limits Limits
	// MaxPixels is checked from the image header before decoding.
	MaxPixels int64
	// KeepOriginal also stores the upload untouched (with its metadata)
	// under OriginalKeyPrefix+key, for organisations whose policy requires
	// the original. Audio and video are stored unchanged anyway, so no copy
	// is made for them.
	KeepOriginal bool
	// DeclaredName is the browser's file name. It appears in messages to the
	// user and is never used to decide the type.
	DeclaredName string
}

// OriginalKeyPrefix keeps originals (which still carry GPS and camera
// metadata) under their own prefix, so bucket policies and retention rules
// can treat them more strictly than the cleaned copies.
const OriginalKeyPrefix = "originals/"

// Result describes what was stored, so callers can record it without
// reading the object back.
type Result struct {
	Key         string
	Kind        Kind
	ContentType string // of the stored object, which may differ from the upload's
	Size        int64  // bytes stored at Key
	SHA256      string // hex, of the bytes stored at Key
	// Width and Height are the stored image's, or the video's display size.
	Width, Height int
	Duration      time.Duration // audio and video; 0 when unknown
	// Degraded says, in plain English, what could not be done (a missing
	// tool, an animation dropped); empty when everything was done.
	Degraded string
	// OriginalKey is where the untouched upload was kept, if it was.
	OriginalKey string
}

func (o Options) withDefaults() Options {
	if o.Limits.Image <= 0 {
		o.Limits.Image = DefaultLimits.Image
	}
	if o.Limits.Audio <= 0 {
		o.Limits.Audio = DefaultLimits.Audio
	}
	if o.Limits.Video <= 0 {
		o.Limits.Video = DefaultLimits.Video
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	return o
}

func (l Limits) of(k Kind) int64 {
	switch k {
	case KindImage:
		return l.Image
	case KindAudio:
		return l.Audio
	}
	return l.Video
}
