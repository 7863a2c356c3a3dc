package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/storykeep/storykeep/app/storage"
)

// ingestStream stores audio and video unchanged, hashing on the way, so a
// 4 GB video never sits in memory. When ffprobe is installed the bytes are
// also teed to a temp file, because ffprobe needs to seek (phones write the
// MP4 index last) and re-reading from S3 would cost a second transfer.
func ingestStream(ctx context.Context, store storage.Store, key string, src *limitReader, f format, opts Options) (Result, error) {
	h := sha256.New()
	count := &counter{}
	sinks := []io.Writer{h, count}
	var tmp *os.File
	if haveTool("ffprobe") {
		var err error
		if tmp, err = os.CreateTemp("", "storykeep-probe-*"); err != nil {
			return Result{}, fmt.Errorf("media: temp file for ffprobe: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		sinks = append(sinks, tmp)
	}
	if _, err := store.Put(ctx, key, io.TeeReader(src, io.MultiWriter(sinks...)), -1, f.contentType); err != nil {
		return Result{}, src.failed("store "+key, err)
	}
	res := Result{Key: key, Kind: f.kind, ContentType: f.contentType, Size: count.n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if tmp == nil {
		res.Degraded = "duration unknown: ffprobe not installed"
		return res, nil
	}
	p, err := ffprobe(ctx, tmp.Name())
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
