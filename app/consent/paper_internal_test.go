package consent

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
	"time"
)

// TestSniffScanAcceptsOnlyRealPDFJPEGPNG: a scan is judged by its bytes.
func TestSniffScanAcceptsOnlyRealPDFJPEGPNG(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	var p, j bytes.Buffer
	_ = png.Encode(&p, img)
	_ = jpeg.Encode(&j, img, nil)
	big := append([]byte("%PDF-1.7\n"), make([]byte, MaxPaperScanBytes)...)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"pdf", []byte("%PDF-1.4\n%%EOF\n"), "application/pdf"},
		{"png", p.Bytes(), "image/png"},
		{"jpeg", j.Bytes(), "image/jpeg"},
		{"empty", nil, ""},
		{"text", []byte("hello"), ""},
		{"html", []byte("<html><script>alert(1)</script></html>"), ""},
		{"png header only", p.Bytes()[:12], ""},
		{"too large", big, ""},
	} {
		got, _, ok := sniffScan(tc.data)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: sniffScan = %q %v, want %q", tc.name, got, ok, tc.want)
		}
	}
}

// TestPaperDateBounds: a date on paper is not in the future and not before
// the form existed.
func TestPaperDateBounds(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	sent := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	for v, ok := range map[string]bool{"2026-12-04": true, "2026-12-01": true, "2026-11-30": false, "2026-12-05": false, "04/12/2026": false, "": false} {
		if _, got := paperDate(v, now, sent); got != ok {
			t.Errorf("paperDate(%q) ok = %v, want %v", v, got, ok)
		}
	}
}

// TestNoticeDaysLargestFirst: the windows are checked from the widest, so
// a consent gets the notice of the narrowest window it is in.
func TestNoticeDaysLargestFirst(t *testing.T) {
	s := &Service{cfg: Settings{PatientNoticeDays: []int{7, 60, 30}}}
	if got := s.noticeDays(); len(got) != 3 || got[0] != 60 || got[2] != 7 {
		t.Fatalf("noticeDays = %v", got)
	}
	if got := (&Service{}).noticeDays(); len(got) != 2 || got[0] != 30 || got[1] != 7 {
		t.Fatalf("default noticeDays = %v", got)
	}
}
