package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// TestTimeout bounds everything one test does in the browser, so a hung
// page fails the test instead of the run; it is a guard, not a speed target:
// the browser tests run in parallel with each other and with the other
// packages' tests on two cores. STORYKEEP_E2E_TIMEOUT (a Go duration)
// overrides it.
var TestTimeout = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("STORYKEEP_E2E_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 4 * time.Minute
}()

// Desktop and phone viewports: staff work at a desk; patients open their
// consent link on a phone.
const (
	DesktopWidth, DesktopHeight = 1280, 900
	PhoneWidth, PhoneHeight     = 390, 844
)

// chromiumPath finds Chromium: STORYKEEP_CHROMIUM, /usr/bin/chromium, or
// chromium on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("STORYKEEP_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("STORYKEEP_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	return exec.LookPath("chromium")
}

// Browser is one headless Chromium process for one test, talking to one
// Storykeep server.
type Browser struct {
	t        *testing.T
	base     string
	root     context.Context // the first tab; holds the browser
	deadline time.Time
	output   *syncBuffer
}

// NewBrowser starts Chromium for the test, with a fresh profile, against the
// server at base. Without Chromium the test is skipped, or fails under CI=true.
// Chromium stops when the test ends.
func NewBrowser(t *testing.T, base string) *Browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		if ci() {
			t.Fatalf("e2e: Chromium not found (%v); install it: apt-get install -y chromium", err)
		}
		t.Skipf("e2e: Chromium not found (%v); install it (apt-get install -y chromium) or set STORYKEEP_CHROMIUM", err)
	}
	axeSource(t) // every browser test checks accessibility; skip or fail early without axe-core
	// Artefacts of an earlier run of this test would mislead.
	_ = os.RemoveAll(filepath.Join(ArtifactsDir, unsafeName.ReplaceAllString(t.Name(), "_")))
	profile, err := os.MkdirTemp("", "storykeep-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helper processes can write for a moment after it exits.
		for range 10 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	b := &Browser{t: t, base: base, output: &syncBuffer{}, deadline: time.Now().Add(TestTimeout)}
	if d, ok := t.Deadline(); ok && d.Add(-5*time.Second).Before(b.deadline) {
		b.deadline = d.Add(-5 * time.Second)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Robustness in containers and stable screenshots.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.WindowSize(DesktopWidth, DesktopHeight),
		chromedp.CombinedOutput(b.output),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close Chromium gracefully and wait (up to 10s) for it to exit.
		ctx, cancel := context.WithTimeout(root, 10*time.Second)
		defer cancel()
		_ = chromedp.Cancel(ctx)
		cancelRoot()
		cancelAlloc()
	})
	startCtx, cancelStart := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelStart()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(root) }() // starts Chromium; must not carry a timeout
	select {
	case err = <-started:
	case <-startCtx.Done():
		err = errors.New("timed out after 30s")
	}
	if err != nil {
		t.Fatalf("e2e: start Chromium %s: %v\n%s", path, err, tail(b.output.String(), 4000))
	}
	b.root = root
	t.Cleanup(func() {
		if t.Failed() && b.output.String() != "" {
			t.Logf("chromium output (last 2000 bytes):\n%s", tail(b.output.String(), 2000))
		}
	})
	return b
}

// NewPage opens a tab in a fresh browser context (its own cookies and
// storage, like a private window) with the 1280×900 desktop viewport staff
// use. name labels its failure artefacts.
func (b *Browser) NewPage(name string) *Page {
	b.t.Helper()
	return b.newPage(name, chromedp.EmulateViewport(DesktopWidth, DesktopHeight))
}

// NewPhonePage is NewPage with a 390×844 phone (iPhone 12: mobile, touch,
// device scale 3, its user agent), for the patient pages.
func (b *Browser) NewPhonePage(name string) *Page {
	b.t.Helper()
	return b.newPage(name, chromedp.Emulate(device.IPhone12))
}

func (b *Browser) newPage(name string, viewport chromedp.Action[chromedp.Void]) *Page {
	b.t.Helper()
	tab, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	run, cancelRun := context.WithDeadline(tab, b.deadline)
	b.t.Cleanup(cancelRun)
	p := &Page{t: b.t, b: b, name: name, tab: tab, ctx: run}
	if err := chromedp.Do(run, viewport); err != nil {
		b.t.Fatalf("e2e: open tab %q: %v", name, err)
	}
	// Registered after cancel, so it runs before the tab closes.
	b.t.Cleanup(p.saveFailureArtefacts)
	return p
}

// Page is one browser tab with helpers that fail the test on error. Its
// actions share the test's deadline (TestTimeout).
type Page struct {
	t    *testing.T
	b    *Browser
	name string
	tab  context.Context // no deadline: used to save artefacts after a timeout
	ctx  context.Context // tab + the test's deadline: used for actions
}

// Ctx is the page's chromedp context, bounded by the test's deadline.
func (p *Page) Ctx() context.Context { return p.ctx }

// Do runs actions in the tab, failing the test on error.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s on %s: %v", p.name, p.Path(), err)
	}
}

// Open navigates to path (relative to the server) and requires status 200.
func (p *Page) Open(path string) {
	p.t.Helper()
	res, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(p.b.base+path))
	if err != nil {
		p.t.Fatalf("%s: open %s: %v", p.name, path, err)
	}
	if res.Status != 200 {
		p.t.Fatalf("%s: open %s: status %d", p.name, path, res.Status)
	}
}

// Submit runs actions that cause a navigation (a click on a submit button or
// a link, Enter in a form) and waits for the new page; it returns the final
// document's status.
func (p *Page) Submit(actions ...chromedp.Action[chromedp.Void]) int64 {
	p.t.Helper()
	res, err := chromedp.RunResponse(p.ctx, actions...)
	if err != nil {
		p.t.Fatalf("%s on %s: %v", p.name, p.Path(), err)
	}
	return res.Status
}

// Click clicks the element matched by the CSS selector and waits for the
// page it leads to, which must answer 200.
func (p *Page) Click(css string) {
	p.t.Helper()
	if st := p.Submit(chromedp.Click(chromedp.CSS(css))); st != 200 {
		p.t.Fatalf("%s: after clicking %s: status %d on %s", p.name, css, st, p.Path())
	}
}

// Type types text into the field matched by the CSS selector, key by key.
func (p *Page) Type(css, text string) {
	p.t.Helper()
	p.Do(chromedp.SendKeys(chromedp.CSS(css), text))
}

// Choose picks the option whose visible label is label in the select matched
// by css, the way a keyboard user does: focus it and type the label
// (typeahead), then checks that the label is what is selected.
func (p *Page) Choose(css, label string) {
	p.t.Helper()
	p.Do(chromedp.Focus(chromedp.CSS(css)), chromedp.KeyEvent(label))
	got := Eval[string](p, `(() => { const s = document.querySelector(`+jsString(css)+`); return s.selectedOptions.length ? s.selectedOptions[0].textContent.trim() : "" })()`)
	if got != label {
		p.t.Fatalf("%s: choosing %q in %s selected %q", p.name, label, css, got)
	}
}

// Text is the visible text of the first element matching the CSS selector;
// it waits for the element to be present.
func (p *Page) Text(css string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		p.t.Fatalf("%s: text of %s on %s: %v", p.name, css, p.Path(), err)
	}
	return strings.TrimSpace(s)
}

// Texts is the visible text of every element matching the CSS selector,
// possibly none; it does not wait.
func (p *Page) Texts(css string) []string {
	p.t.Helper()
	return Eval[[]string](p, `Array.from(document.querySelectorAll(`+jsString(css)+`), e => e.innerText.trim())`)
}

// Heading is the page's h1.
func (p *Page) Heading() string {
	p.t.Helper()
	return p.Text("h1")
}

// Path is the current URL's path and query, or "" when unknown.
func (p *Page) Path() string {
	// Its own short timeout: Path names the page in failure messages, after
	// the test's deadline too, and must not hang on a stuck tab.
	ctx, cancel := context.WithTimeout(p.tab, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return u.RequestURI()
}

// WantPath fails the test unless the current path (without query) is want.
func (p *Page) WantPath(want string) {
	p.t.Helper()
	got := p.Path()
	if i := strings.IndexByte(got, '?'); i >= 0 {
		got = got[:i]
	}
	if got != want {
		p.t.Fatalf("%s: on %s, want %s (h1: %q)", p.name, got, want, Eval[string](p, `document.querySelector("h1")?.innerText ?? ""`))
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its
// JSON value into T, failing the test on error. Promises are awaited.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %.80q on %s: %v", p.name, expr, p.Path(), err)
	}
	return v
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return fmt.Sprintf("%q", s) // Go's quoting is valid JS for the selectors used here
}

// ArtifactsDir is where failure artefacts and screenshots go (e2e/artifacts,
// ignored by git).
const ArtifactsDir = "artifacts"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// testDir is e2e/artifacts/<TestName>/.
func (p *Page) testDir() string {
	return filepath.Join(ArtifactsDir, unsafeName.ReplaceAllString(p.t.Name(), "_"))
}

// saveFailureArtefacts saves a full-page PNG and the HTML of the page when
// the test has failed.
func (p *Page) saveFailureArtefacts() {
	if !p.t.Failed() {
		return
	}
	base := filepath.Join(p.testDir(), unsafeName.ReplaceAllString(p.name, "_"))
	p.t.Logf("%s was on %s", p.name, p.Path())
	if png, html, err := p.capture(base); err != nil {
		p.t.Logf("e2e: could not save failure artefacts for %s: %v", p.name, err)
	} else {
		p.t.Logf("failure artefacts for %s:\n  %s\n  %s", p.name, png, html)
	}
}

// capture writes base.png (full page) and base.html; it uses its own
// timeout so that it works after the test's deadline has passed.
func (p *Page) capture(base string) (pngPath, htmlPath string, err error) {
	ctx, cancel := context.WithTimeout(p.tab, 15*time.Second)
	defer cancel()
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return "", "", err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", "", fmt.Errorf("screenshot: %w", err)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`"<!doctype html>\n" + document.documentElement.outerHTML`))
	if err != nil {
		return "", "", fmt.Errorf("html: %w", err)
	}
	pngPath, htmlPath = base+".png", base+".html"
	if err := os.WriteFile(pngPath, png, 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(htmlPath, []byte(html), 0o644); err != nil {
		return "", "", err
	}
	abs := func(s string) string {
		if a, err := filepath.Abs(s); err == nil {
			return a
		}
		return s
	}
	return abs(pngPath), abs(htmlPath), nil
}

// UpdateScreenshotsEnv names the variable that, set to 1, makes Screenshot
// also write docs/screenshots/<name>.png.
const UpdateScreenshotsEnv = "STORYKEEP_UPDATE_SCREENSHOTS"

// Screenshot saves a full-page PNG of the page as
// e2e/artifacts/screens/<name>.png and, when STORYKEEP_UPDATE_SCREENSHOTS=1,
// as docs/screenshots/<name>.png too.
func (p *Page) Screenshot(name string) {
	p.t.Helper()
	// Move focus and hover out of the way so the picture shows the page at rest.
	p.Do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("%s: screenshot %s: %v", p.name, name, err)
	}
	p.saveScreenshot(name, png)
}

// ScreenshotViewport is Screenshot of what is on screen only, for long
// pages on a phone, where the full page would be a very tall image.
func (p *Page) ScreenshotViewport(name string) {
	p.t.Helper()
	p.Do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot %s: %v", p.name, name, err)
	}
	p.saveScreenshot(name, png)
}

func (p *Page) saveScreenshot(name string, png []byte) {
	p.t.Helper()
	dirs := []string{filepath.Join(ArtifactsDir, "screens")}
	if os.Getenv(UpdateScreenshotsEnv) == "1" {
		dirs = append(dirs, filepath.Join("..", "docs", "screenshots"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			p.t.Fatal(err)
		}
		p.t.Logf("screenshot %s", path)
	}
}
