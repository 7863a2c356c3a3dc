package media

import (
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"

	"github.com/storykeep/storykeep/app/storage"
)

// PosterFrame stores a representative still of a stored video as a
// metadata-free JPEG at dstKey, because social channels and the media
// library need a picture for every video. It needs ffmpeg; without it the
// error wraps ErrToolMissing so callers can show a placeholder instead.
// The video is copied to a temp file first, since ffmpeg must seek in it.
func PosterFrame(ctx context.Context, store storage.Store, videoKey, dstKey string) (Rendition, error) {
	if !haveTool("ffmpeg") {
		return Rendition{}, fmt.Errorf("media: poster frame for %q: %w: ffmpeg", videoKey, ErrToolMissing)
	}
	dir, err := os.MkdirTemp("", "storykeep-poster-*")
	if err != nil {
		return Rendition{}, err
	}
	defer os.RemoveAll(dir)
	video, still := filepath.Join(dir, "video"), filepath.Join(dir, "still.jpg")
	if err := download(ctx, store, videoKey, video); err != nil {
		return Rendition{}, err
	}
	// thumbnail picks the most typical of the first frames, which skips
	// black or fading openings; ffmpeg applies the rotation itself.
	if _, err := runTool(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", video, "-map", "0:v:0",
		"-vf", "thumbnail=50", "-frames:v", "1", "-map_metadata", "-1", "-c:v", "mjpeg", "-q:v", "2",
		"-f", "image2", still); err != nil {
		return Rendition{}, fmt.Errorf("media: poster frame for %q: %w", videoKey, err)
	}
	f, err := os.Open(still)
	if err != nil {
		return Rendition{}, err
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil {
		return Rendition{}, fmt.Errorf("media: poster frame for %q: %w", videoKey, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > DefaultMaxPixels {
		return Rendition{}, fmt.Errorf("media: poster frame for %q is %d×%d, over %d pixels", videoKey, cfg.Width, cfg.Height, DefaultMaxPixels)
	}
	r := Rendition{Key: dstKey, Width: cfg.Width, Height: cfg.Height}
	err = withDecodeBudget(ctx, sourceCost(f, cfg, "jpeg", 0), func() error {
		img, err := jpeg.Decode(io.NewSectionReader(f, 0, 1<<62))
		if err != nil {
			return fmt.Errorf("media: poster frame for %q: %w", videoKey, err)
		}
		return putJPEG(ctx, store, &r, img) // re-encoded: no ffmpeg comment or metadata
	})
	return r, err
}

// download copies a stored object to a local path.
func download(ctx context.Context, store storage.Store, key, path string) error {
	rc, _, err := store.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("media: open %q: %w", key, err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("media: download %q: %w", key, err)
	}
	return f.Close()
}
