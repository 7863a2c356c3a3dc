package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPaperConsentInTheBrowser: staff ask for consent for a patient with no
// email address, print the form, record the signed paper (scan uploaded
// through the file input), and see the story consented, the record marked
// as signed on paper and the task to hand over a printed copy, which they
// record as done. axe checks the paper page, the printed form and the
// consent page with its task.
func TestPaperConsentInTheBrowser(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("admin")
	signIn(p, srv.AdminEmail, srv.AdminPassword)
	changePassword(p, srv.AdminPassword, "a long admin passphrase 1")

	p.Open("/patients/new")
	p.Type("#full_name", "Ana Ruiz")
	p.Type("#dob", "1980-03-04")
	p.Click(`main form button[type=submit]`)
	patient := strings.TrimPrefix(p.Path(), "/patients/")
	p.Open("/stories/new?patient=" + patient)
	p.Type("#title", "Ana runs again")
	p.Type("#body", "Ana ran her first race after surgery.")
	p.check(`input[name=channels][value=website]`)
	p.Click(`form.story-form button[type=submit]`)
	story := p.Path()

	p.Open(story + "/consent")
	p.check(`input[name=signer][value=patient]`)
	p.check(`#channels input[value=website]`)
	p.check(`input[name=name_usage][value=first_name]`)
	p.Click(`form[action$="/consent"] button[type=submit]`)
	if h := p.Heading(); !strings.HasPrefix(h, "Consent link for") {
		t.Fatalf("after sending the request: h1 %q, errors %v", h, p.Texts(".error"))
	}

	p.Open(story + "/consent/paper")
	p.CheckA11y()
	p.Click(`a[href$="/print"]`)
	if got := p.Text("#paper-form"); !strings.Contains(got, "Your choices") {
		t.Fatalf("printed form: %q", got)
	}
	p.CheckA11y()

	p.Open(story + "/consent/paper")
	p.check(`#channels input[value=website]`)
	p.check(`input[name=name_usage][value=first_name]`)
	today := time.Now().UTC()
	p.Do(chromedp.SetValue(chromedp.CSS("#expires_on"), today.AddDate(1, 0, 0).Format("2006-01-02")))
	p.Do(chromedp.SetValue(chromedp.CSS("#signed_on"), today.Format("2006-01-02")))
	p.Type("#signer_name", "Ana Ruiz")
	p.Do(chromedp.SetUploadFiles(chromedp.CSS("#scan"), []string{scanFile(t)}))
	p.Click(`form[action$="/paper/authorization"] button[type=submit]`)
	if !strings.HasSuffix(p.Path(), "/consent") || !strings.Contains(p.Text("main"), "signed on paper") {
		t.Fatalf("after recording the paper: on %s, %q", p.Path(), p.Text("main"))
	}
	if got := p.Text(`#patient-tasks li[data-kind="print_copy"]`); !strings.Contains(got, "printed copy") {
		t.Fatalf("no printed-copy task: %q", p.Text("main"))
	}
	p.CheckA11y()
	p.Click(`#patient-tasks li[data-kind="print_copy"] button[type=submit]`)
	if got := p.Text(`#patient-tasks li[data-kind="print_copy"]`); !strings.Contains(got, "done") {
		t.Fatalf("task after recording it done: %q", got)
	}
}

// scanFile writes a small PNG standing for a scanned signed form.
func scanFile(t *testing.T) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 60, 30))
	for x := 0; x < 60; x++ {
		img.Set(x, 15, color.Gray{Y: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "signed-form.png")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
