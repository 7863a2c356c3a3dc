package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/storage"
)

// lavfi makes a short recording with ffmpeg; the output name picks the container.
func lavfi(t *testing.T, name string, args ...string) []byte {
	p := filepath.Join(t.TempDir(), name)
	run(t, "ffmpeg", append(append([]string{"-v", "error", "-y"}, args...), p)...)
	return readFile(t, p)
}

func testMP4(t *testing.T) []byte {
	return lavfi(t, "out.mp4", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10",
		"-f", "lavfi", "-i", "sine=duration=2", "-shortest")
}

func TestIngestAudioAndVideo(t *testing.T) {
	needTool(t, "ffprobe")
	sine := []string{"-f", "lavfi", "-i", "sine=duration=1"}
	cases := []struct {
		name        string
		data        []byte
		kind        Kind
		contentType string
		dur         time.Duration
		w, h        int
	}{
		{"mp4", testMP4(t), KindVideo, "video/mp4", 2 * time.Second, 320, 240},
		{"mov", lavfi(t, "out.mov", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10"), KindVideo, "video/quicktime", time.Second, 160, 120},
		{"wav", lavfi(t, "out.wav", sine...), KindAudio, "audio/wav", time.Second, 0, 0},
		{"m4a", lavfi(t, "out.m4a", append(sine, "-c:a", "aac")...), KindAudio, "audio/mp4", time.Second, 0, 0},
		{"mp3", lavfi(t, "out.mp3", sine...), KindAudio, "audio/mpeg", time.Second, 0, 0},
	}
	eachStore(t, func(t *testing.T, s storage.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				key := "m/" + c.name
				res, err := Ingest(context.Background(), s, key, bytes.NewReader(c.data), Options{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Kind != c.kind || res.ContentType != c.contentType || res.Width != c.w || res.Height != c.h || res.Degraded != "" {
					t.Fatalf("got %+v", res)
				}
				if d := res.Duration - c.dur; d < -100*time.Millisecond || d > 100*time.Millisecond {
					t.Fatalf("duration %v, want about %v", res.Duration, c.dur)
				}
				// Remuxed without metadata (finding F20, see
				// TestF20AudioVideoMetadataStripped): size and hash describe
				// what was stored.
				stored, _ := fetch(t, s, key)
				sum := sha256.Sum256(stored)
				if len(stored) == 0 || res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(stored)) {
					t.Fatal("the result's size or hash does not describe the stored bytes")
				}
			})
		}
	})
}

func TestIngestVideoFailures(t *testing.T) {
	needTool(t, "ffprobe")
	mp4 := testMP4(t)
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		_, err := Ingest(ctx, s, "m/v", bytes.NewReader(mp4), Options{Limits: Limits{Video: 10 << 10}})
		wantReject(t, err, ReasonTooLarge, "This video is larger than the 10 KB limit.")

		boom := errors.New("client went away")
		_, err = Ingest(ctx, s, "m/v", &failingReader{data: mp4, after: len(mp4) / 2, err: boom}, Options{})
		if !errors.Is(err, boom) {
			t.Fatalf("want the reader's error, got %v", err)
		}
		// MP4 magic but no index: stored, then probed, refused and deleted.
		_, err = Ingest(ctx, s, "m/v", bytes.NewReader(mp4[:len(mp4)/3]), Options{DeclaredName: "clip.mp4"})
		wantReject(t, err, ReasonDamaged, `"clip.mp4" looks like an MP4 video but could not be read`)
		assertEmpty(t, s)
	})
}

// Without ffprobe and ffmpeg, uploads still work and say what is missing.
func TestIngestWithoutTools(t *testing.T) {
	wav := lavfi(t, "out.wav", "-f", "lavfi", "-i", "sine=duration=1")
	t.Setenv("PATH", t.TempDir())
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		res, err := Ingest(ctx, s, "m/a", bytes.NewReader(wav), Options{})
		if err != nil || res.Kind != KindAudio || res.Duration != 0 || res.Degraded != "duration unknown: ffprobe not installed; metadata not stripped: ffmpeg not installed" {
			t.Fatalf("%+v, %v", res, err)
		}
		if _, err := PosterFrame(ctx, s, "m/a", "m/a.poster.jpg"); !errors.Is(err, ErrToolMissing) {
			t.Fatalf("PosterFrame without ffmpeg: %v", err)
		}
	})
}

func TestPosterFrame(t *testing.T) {
	mp4 := testMP4(t)
	eachStore(t, func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		if _, err := Ingest(ctx, s, "m/v", bytes.NewReader(mp4), Options{}); err != nil {
			t.Fatal(err)
		}
		r, err := PosterFrame(ctx, s, "m/v", "m/v.poster.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if r.Width != 320 || r.Height != 240 || r.Key != "m/v.poster.jpg" {
			t.Fatalf("%+v", r)
		}
		stored, _ := fetch(t, s, r.Key)
		if cfg := decodeConfig(t, stored); cfg.Width != 320 || cfg.Height != 240 {
			t.Fatalf("stored poster is %d×%d", cfg.Width, cfg.Height)
		}
	})
}

// A large recording must stream through: memory use stays flat whatever
// the size. (ffprobe is hidden so the fake MP4 is not probed and refused.)
func TestIngestStreamsWithoutBuffering(t *testing.T) {
	const size = 64 << 20
	t.Setenv("PATH", t.TempDir())
	s, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := Ingest(context.Background(), s, "m/big", fakeMP4(size), Options{})
	runtime.ReadMemStats(&after)
	if err != nil || res.Size != size || res.Kind != KindVideo {
		t.Fatalf("%+v, %v", res, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("streaming %d MB allocated %d MB", size>>20, grew>>20)
	}
}

// fakeMP4 is an MP4 signature followed by zeros, generated as it is read.
func fakeMP4(size int64) io.Reader {
	head := []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41")
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, size-int64(len(head))))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
