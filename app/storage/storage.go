// Package storage keeps media objects (photos, video, audio, signatures,
// certificates) in S3-compatible object storage or on local disk, behind one
// interface so that every caller behaves the same on a laptop and in production.
package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("storage: object not found")

// ErrInvalidKey is returned for keys that could escape the store (absolute
// paths, "..", empty segments, control characters).
var ErrInvalidKey = errors.New("storage: invalid object key")

// ErrInvalidRange is returned by OpenRange when the range cannot be served
// (negative values, or an offset past the end), so HTTP handlers can answer
// 416 instead of 500.
var ErrInvalidRange = errors.New("storage: invalid byte range")

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Store is implemented by the local-disk store and the S3 store. Put must never
// leave a partial object visible under key: either the whole object is stored
// or nothing is.
type Store interface {
	// Put streams r to key. size is the exact length, or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error)
	// Open returns a reader for the object, or ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// OpenRange returns length bytes starting at offset (length -1: to the end).
	// A length past the end is cut at the end; an offset equal to the size
	// gives an empty reader; an offset past it is ErrInvalidRange. The Info
	// describes the whole object (Size is the full size, not the range's).
	OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error)
	// Stat returns the object's Info, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix, in byte
	// order of keys, and stops at the first error fn returns. ContentType is
	// left empty (S3 listings do not carry it): use Stat when it is needed.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Ready reports whether the store can be used (bucket exists, disk writable).
	Ready(ctx context.Context) error
}

// Leftover is what an interrupted upload can leave in a store besides
// objects: an incomplete S3 multipart upload, or a local temp file.
type Leftover struct {
	Kind     string
	Key      string // object key, or temp file name
	UploadID string // S3 multipart upload id
	Size     int64
	Started  time.Time
}

// LeftoverStore is implemented by stores that can hold leftovers; `storykeep
// media check` lists them and --fix removes them.
type LeftoverStore interface {
	Leftovers(ctx context.Context, olderThan time.Duration) ([]Leftover, error)
	RemoveLeftover(ctx context.Context, l Leftover) error
}
