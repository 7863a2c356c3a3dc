package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/storykeep/storykeep/app/storage"
)

// ingestStream stores audio and video unchanged, hashing on the way, so a
// 4 GB video never sits in memory. When ffprobe is installed the bytes are
// also teed to a temp file, because ffprobe needs to seek (phones write the
// MP4 index last) and re-reading from S3 would cost a second transfer.
func ingestStream(ctx context.Context, store storage.Store, key string, src *limitReader, f format, opts Options) (Result, error) {
	h := sha256.New()
	count := &counter{}
	if _, err := store.Put(ctx, key, io.TeeReader(src, io.MultiWriter(h, count)), -1, f.contentType); err != nil {
		return Result{}, src.failed("store "+key, err)
	}
	res := Result{Key: key, Kind: f.kind, ContentType: f.contentType, Size: count.n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if !haveTool("ffprobe") {
		res.Degraded = "duration unknown: ffprobe not installed"
		return res, nil
	}
	// ffprobe reads only what it needs of the stored object (a phone's MP4
	// keeps its index at the end): no second copy of a large upload is written.
	target, cleanup, err := probeTarget(ctx, store, key)
	if err != nil {
		return Result{}, discard(ctx, store, fmt.Errorf("media: preparing to probe %s: %w", key, err), key)
	}
	defer cleanup()
	p, err := ffprobe(ctx, target)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		} else {
			err = reject(ReasonDamaged, "%s looks like %s but could not be read; it may be damaged or incomplete.", subject(opts.DeclaredName), f.name)
		}
		return Result{}, discard(ctx, store, err, key)
	}
	res.Duration = p.duration
	if f.kind == KindVideo {
		res.Width, res.Height = p.width, p.height
	}
	if p.duration == 0 {
		res.Degraded = "duration unknown: ffprobe could not tell"
	}
	return res, nil
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// probeTarget returns something ffprobe can open for a stored object: the
// file itself for the local store, a short-lived presigned URL for S3, or,
// for any other store, a temporary download.
func probeTarget(ctx context.Context, store storage.Store, key string) (target string, cleanup func(), err error) {
	switch s := store.(type) {
	case interface{ FilePath(string) (string, error) }:
		p, err := s.FilePath(key)
		return p, func() {}, err
	case interface {
		PresignGet(context.Context, string, time.Duration, string) (*url.URL, error)
	}:
		u, err := s.PresignGet(ctx, key, 15*time.Minute, "")
		if err != nil {
			return "", nil, err
		}
		return u.String(), func() {}, nil
	}
	rc, _, err := store.Open(ctx, key)
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp("", "storykeep-probe-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, rc); err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}
