package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/storage"
)

// blackImage is a w×h image whose pixels cost nothing: png.Encode reads it
// pixel by pixel, so the hostile file is written without allocating it.
type blackImage struct {
	w, h  int
	model color.Model
}

func (b blackImage) ColorModel() color.Model { return b.model }
func (b blackImage) Bounds() image.Rectangle { return image.Rect(0, 0, b.w, b.h) }
func (b blackImage) At(x, y int) color.Color { return color.NRGBA{A: 255} }

// hostilePNG writes a w×h black PNG (a few hundred KB that decode to
// w×h×4 bytes) to path.
func hostilePNG(t testing.TB, path string, w, h int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, blackImage{w, h, color.NRGBAModel}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

const (
	bombEnv      = "STORYKEEP_F9_BOMB"
	bombParallel = 8
	bombSide     = 7000
	bombRSSLimit = 512 << 20
)

// TestF9ImageBombPeakRSS is the image-bomb benchmark of finding F9: a child
// process ingests 8 hostile 7000×7000 PNGs (49 megapixels each, just under
// the pixel limit) in parallel, and its peak resident memory, read from the
// kernel's rusage of the finished child, must stay under 512 MiB. A child
// process keeps the figure free of everything else this test binary did.
func TestF9ImageBombPeakRSS(t *testing.T) {
	if p := os.Getenv(bombEnv); p != "" {
		bombChild(t, p)
		return
	}
	path := filepath.Join(t.TempDir(), "bomb.png")
	hostilePNG(t, path, bombSide, bombSide)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestF9ImageBombPeakRSS$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), bombEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	peak := int64(ru.Maxrss) << 10 // KiB on Linux
	t.Logf("F9 image bomb: %d parallel ingests of a %d×%d black PNG (%d KB): peak RSS %d MiB (limit %d MiB)\n%s",
		bombParallel, bombSide, bombSide, st.Size()>>10, peak>>20, bombRSSLimit>>20, bytes.TrimSpace(out))
	if peak >= bombRSSLimit {
		t.Fatalf("peak RSS %d MiB, want under %d MiB", peak>>20, bombRSSLimit>>20)
	}
}

func bombChild(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var wg sync.WaitGroup
	errs := make([]error, bombParallel)
	for i := range bombParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Ingest(context.Background(), store, fmt.Sprintf("bomb/%d", i), bytes.NewReader(data), Options{DeclaredName: "bomb.png"})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		t.Logf("ingest %d: err=%v", i, err)
	}
}

// TestF9DecodeBudget checks the decode budget's parts: the cost comes from
// the header (a 4:2:0 JPEG costs 1.5 bytes a pixel, RGBA 4), decodes that do
// not fit together take turns, and an image over the whole budget is refused
// with a message the user can act on, before anything is decoded.
func TestF9DecodeBudget(t *testing.T) {
	defer SetDecodeBudget(0)
	dir := t.TempDir()

	jpg := testJPEG(t, 800, 600)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(jpg))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sourceCost(bytes.NewReader(jpg), cfg, format, 0), int64(800*600*1.5)+decodeOverhead; got != want {
		t.Errorf("4:2:0 JPEG cost %d, want %d", got, want)
	}
	pngPath := filepath.Join(dir, "big.png")
	hostilePNG(t, pngPath, 2000, 2000)
	big, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, format, _ = image.DecodeConfig(bytes.NewReader(big))
	cost := sourceCost(bytes.NewReader(big), cfg, format, 0)
	if want := int64(2000*2000*4) + decodeOverhead; cost != want {
		t.Errorf("RGBA PNG cost %d, want %d", cost, want)
	}

	// Two decodes that do not fit together never overlap.
	SetDecodeBudget(2*cost - 1)
	var mu sync.Mutex
	running, most := 0, 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := withDecodeBudget(context.Background(), cost, func() error {
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				running--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d decodes ran at once within a budget for one", most)
	}

	// Over the whole budget: refused before decoding.
	SetDecodeBudget(cost - 1)
	store, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = Ingest(context.Background(), store, "m/big", bytes.NewReader(big), Options{DeclaredName: "big.png"})
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Reason != ReasonTooManyPixels || !strings.Contains(rej.Error(), "memory") {
		t.Fatalf("over-budget PNG: %v, want a too-many-pixels refusal naming memory", err)
	}
	// A waiting decode gives up with its request.
	SetDecodeBudget(cost)
	hold := make(chan struct{})
	go withDecodeBudget(context.Background(), cost, func() error { <-hold; return nil })
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := withDecodeBudget(ctx, cost, func() error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting decode with an expired request: %v", err)
	}
	close(hold)
}
