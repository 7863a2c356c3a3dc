package web

import "testing"

// TestCompressible: text, scripts and SVG are compressed; photos, audio,
// video and archives, compressed already, are not.
func TestCompressible(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html; charset=UTF-8": true, "text/css; charset=utf-8": true, "text/javascript; charset=utf-8": true,
		"image/svg+xml": true, "application/pdf": true, "application/json": true,
		"image/jpeg": false, "image/png": false, "image/webp": false, "Image/HEIC": false,
		"audio/mpeg": false, "video/mp4": false, "application/zip": false, "application/gzip": false,
	} {
		if got := compressible(ct); got != want {
			t.Errorf("compressible(%q) = %v, want %v", ct, got, want)
		}
	}
}
