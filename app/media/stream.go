package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/storage"
)

// ingestStream stores audio and video. With ffmpeg installed they are
// remuxed first, dropping their metadata (ingestRemuxed); without it they are
// stored unchanged, hashing on the way, so a 4 GB video never sits in memory,
// and the result says the metadata stayed.
func ingestStream(ctx context.Context, store storage.Store, key string, src *limitReader, f format, opts Options) (Result, error) {
	if haveTool("ffmpeg") && haveTool("ffprobe") {
		return ingestRemuxed(ctx, store, key, src, f, opts)
	}
	res, err := ingestUnchanged(ctx, store, key, src, f, opts)
	if err == nil {
		res.Degraded = strings.TrimPrefix(res.Degraded+"; metadata not stripped: ffmpeg not installed", "; ")
	}
	return res, err
}

// remuxTimeout bounds one remux: a stream copy of a 4 GB video is disk-bound.
const remuxTimeout = 15 * time.Minute

// remuxArgs are the muxer options per stored content type: the same
// container, without the tags each muxer would otherwise write (ID3 for MP3).
var remuxArgs = map[string][]string{
	"video/mp4":       {"-f", "mp4", "-movflags", "+faststart"},
	"video/quicktime": {"-f", "mov", "-movflags", "+faststart"},
	"audio/mp4":       {"-f", "mp4", "-movflags", "+faststart"},
	"audio/mpeg":      {"-f", "mp3", "-id3v2_version", "0", "-write_id3v1", "0"},
	"audio/wav":       {"-f", "wav"},
}

// ingestRemuxed strips container and stream metadata (finding F20: GPS
// location, titles, dates, chapters, cover art and data tracks such as a
// phone's timed location) by remuxing with ffmpeg: the video, audio and
// subtitle streams are copied bit for bit (no re-encoding), everything else
// is left behind. The upload is spooled to disk (never memory), remuxed to a
// second temp file, probed, and that file is stored.
func ingestRemuxed(ctx context.Context, store storage.Store, key string, src *limitReader, f format, opts Options) (Result, error) {
	in, _, err := spool(src)
	if err != nil {
		return Result{}, src.failed("read upload", err)
	}
	defer os.Remove(in.Name())
	defer in.Close()
	out, err := os.CreateTemp("", "storykeep-remux-*")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	args := []string{"-nostdin", "-v", "error", "-y", "-i", in.Name(),
		"-map", "0:V?", "-map", "0:a?", "-map", "0:s?", "-map_metadata", "-1", "-map_chapters", "-1",
		"-c", "copy", "-fflags", "+bitexact"}
	args = append(append(args, remuxArgs[f.contentType]...), out.Name())
	unreadable := func(err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return reject(ReasonDamaged, "%s looks like %s but could not be read; it may be damaged or incomplete.", subject(opts.DeclaredName), f.name)
	}
	if _, err := runToolFor(ctx, remuxTimeout, "ffmpeg", args...); err != nil {
		return Result{}, unreadable(err)
	}
	p, err := ffprobe(ctx, out.Name())
	if err != nil {
		return Result{}, unreadable(err)
	}
	st, err := out.Stat()
	if err != nil {
		return Result{}, err
	}
	h := sha256.New()
	if _, err := store.Put(ctx, key, io.TeeReader(io.NewSectionReader(out, 0, st.Size()), h), st.Size(), f.contentType); err != nil {
		return Result{}, fmt.Errorf("media: store %q: %w", key, err)
	}
	res := Result{Key: key, Kind: f.kind, ContentType: f.contentType, Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), Duration: p.duration}
	if f.kind == KindVideo {
		res.Width, res.Height = p.width, p.height
	}
	if p.duration == 0 {
		res.Degraded = "duration unknown: ffprobe could not tell"
	}
	if err := ctx.Err(); err != nil {
		return Result{}, discard(ctx, store, err, key)
	}
	return res, nil
}

// ingestUnchanged stores audio or video as uploaded (no ffmpeg). When
// ffprobe is installed it reads the stored object for the duration and size.
func ingestUnchanged(ctx context.Context, store storage.Store, key string, src *limitReader, f format, opts Options) (Result, error) {
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
