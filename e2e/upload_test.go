package e2e

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storykeep/storykeep/app/media/mediatest"
)

// writeWAV writes a valid WAV recording of size bytes to path.
func writeWAV(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, mediatest.WAV(int64(size))); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestResumableUploadInBrowser drives upload.js in Chromium: a recording
// larger than one chunk is sent through the resumable protocol (several
// PUTs, then complete) with a progress bar, and the media page then lists it
// with its full size.
func TestResumableUploadInBrowser(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("admin")
	signIn(p, srv.AdminEmail, srv.AdminPassword)
	changePassword(p, srv.AdminPassword, "a long admin passphrase 1")

	// A patient and a story, through the same forms staff use.
	p.Open("/patients/new")
	p.Type("#full_name", "Ana Ruiz")
	p.Click(`main form button[type=submit]`)
	patient := strings.TrimPrefix(p.Path(), "/patients/")
	if len(patient) < 30 {
		t.Fatalf("patient page path %q", p.Path())
	}
	p.Open("/stories/new?patient=" + patient)
	p.Type("#title", "Ana's recording")
	p.Click(`main form button[type=submit]`)
	story := strings.TrimPrefix(p.Path(), "/stories/")

	const size = 20<<20 + 4321 // three chunks
	file := filepath.Join(t.TempDir(), "interview.wav")
	writeWAV(t, file, size)
	p.Open("/stories/" + story + "/media")
	p.Do(chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{file}))
	p.Do(chromedp.Click(chromedp.CSS(`form[data-upload] button[type=submit]`)))
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n := Eval[int](p, `document.querySelectorAll(".media-item").length`); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not finish; progress area says %q", Eval[string](p, `(document.querySelector("[data-upload-progress]")||{}).innerText||""`))
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The stored WAV is remuxed without metadata on ingest (F20), so its
	// size may differ from the upload's by a header's worth of bytes.
	got := p.Text(".media-item")
	m := regexp.MustCompile(`(\d+) bytes`).FindStringSubmatch(got)
	if !strings.Contains(got, "audio") || m == nil {
		t.Fatalf("media item %q", got)
	}
	if n, _ := strconv.Atoi(m[1]); n < size-4096 || n > size+4096 {
		t.Fatalf("stored %d bytes, uploaded %d: the three chunks did not make the whole file", n, size)
	}
	logs := srv.stderr.String()
	if n := strings.Count(logs, "method=PUT route=/uploads/:id status=200"); n != 3 {
		t.Fatalf("want the file sent as 3 chunks through the resumable protocol, saw %d chunk PUTs", n)
	}
	if !strings.Contains(logs, "method=POST route=/uploads/:id/complete status=200") {
		t.Fatal("the upload was not completed through the resumable protocol")
	}
}
