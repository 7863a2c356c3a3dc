package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/models"
)

func TestSecurityHeaders(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.PublicURL = "https://stories.example.org" })
	res := env.Client().Get("/login").Expect(http.StatusOK)
	want := map[string]string{
		"Content-Security-Policy":   "frame-ancestors 'none'",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"X-Frame-Options":           "DENY",
		"Strict-Transport-Security": "max-age=",
		"X-Request-Id":              "",
	}
	for h, sub := range want {
		if v := res.Header.Get(h); v == "" || !strings.Contains(v, sub) {
			t.Errorf("%s = %q, want it to contain %q", h, v, sub)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP must forbid inline script: %s", csp)
	}
	plain := apptest.New(t)
	if plain.Client().Get("/login").Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS must only be sent over TLS")
	}
}

func TestStaticAssetsAreHashedAndCached(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	href := c.Get("/login").Doc.Find(`link[rel=stylesheet]`).AttrOr("href", "")
	if !strings.HasPrefix(href, "/static/") || !strings.HasSuffix(href, "/css/app.css") {
		t.Fatalf("stylesheet href %q", href)
	}
	res := c.Get(href).Expect(http.StatusOK)
	if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("headers %v", res.Header)
	}
	// Gzipped for browsers (a slow phone's first visit), byte for byte the same file.
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+href, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd") // set by hand: the client then leaves the body as sent
	zipped := c.Do(req).Expect(http.StatusOK)
	if zipped.Header.Get("Content-Encoding") != "gzip" || len(zipped.Body) >= len(res.Body) {
		t.Fatalf("stylesheet sent with Content-Encoding %q, %d bytes for %d", zipped.Header.Get("Content-Encoding"), len(zipped.Body), len(res.Body))
	}
	if r, err := gzip.NewReader(strings.NewReader(zipped.Body)); err != nil {
		t.Fatal(err)
	} else if css, err := io.ReadAll(r); err != nil || string(css) != res.Body {
		t.Fatalf("the gzipped stylesheet is not the stylesheet (%v)", err)
	}
	if c.Get("/static/deadbeef/css/app.css").Header.Get("Cache-Control") != "no-cache" {
		t.Fatal("stale hash must not be cached for long")
	}
	c.Get("/static/x/../../go.mod").Expect(http.StatusNotFound)
}

func TestHealthReadyAndDatabaseDown(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleAdmin)
	c.Get("/healthz").Expect(http.StatusOK)
	c.Get("/readyz").Expect(http.StatusOK)
	sqlDB, _ := env.App.DB.DB()
	sqlDB.Close()
	res := c.Get("/readyz").Expect(http.StatusServiceUnavailable)
	if !strings.Contains(res.Body, `"database":"unavailable"`) {
		t.Fatalf("readyz body %s", res.Body)
	}
	c.Get("/healthz").Expect(http.StatusOK)
	page := c.Get("/admin/users").Expect(http.StatusServiceUnavailable)
	page.Contains("Storykeep cannot reach its database right now")
}

func TestMetricsNeedToken(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.MetricsToken = "s3cret-metrics-token" })
	c := env.Client()
	c.Get("/login")
	c.Get("/metrics").Expect(http.StatusNotFound)
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret-metrics-token")
	res := c.Do(req).Expect(http.StatusOK)
	if !strings.Contains(res.Body, `storykeep_http_requests_total{method="GET",route="/login",status="200"}`) {
		t.Fatalf("metrics missing request counter:\n%.500s", res.Body)
	}
	if off := apptest.New(t); off.Client().Get("/metrics").Status != http.StatusNotFound {
		t.Fatal("without a token /metrics must not exist")
	}
}

func TestAuditScreenFiltersAndRecordsSignIns(t *testing.T) {
	env := apptest.New(t)
	admin, me := env.SignedIn(models.RoleAdmin)
	res := admin.Get("/admin/audit?action=session.login").Expect(http.StatusOK)
	if res.Doc.Find("tbody tr").Length() < 1 || !strings.Contains(res.Text("tbody"), me.Email) {
		t.Fatalf("sign-in not in audit log: %s", res.Text("tbody"))
	}
	// No linker runs in this test: the entry shows it waits to be linked;
	// once linked, its chain position.
	if first := res.Doc.Find("tbody tr td").First().Text(); first != "not yet linked" {
		t.Fatalf("unlinked entry's position cell: %q", first)
	}
	if _, err := env.App.Audit.Link(context.Background()); err != nil {
		t.Fatal(err)
	}
	res = admin.Get("/admin/audit?action=session.login").Expect(http.StatusOK)
	if first := res.Doc.Find("tbody tr td").First().Text(); first == "not yet linked" || first == "" {
		t.Fatalf("linked entry's position cell: %q", first)
	}
	admin.Get("/admin/audit?from=yesterday").Expect(http.StatusBadRequest).Contains("“From” must be a date like 2026-01-31.")
	if admin.Get("/admin/audit?object_type=none").Doc.Find("tbody").Text() == "" {
		t.Fatal("empty result should say so")
	}
}

func TestReadyzReportsStorage(t *testing.T) {
	env := apptest.New(t)
	c := env.Client()
	res := c.Get("/readyz").Expect(http.StatusOK)
	if !strings.Contains(res.Body, `"storage":"ok"`) {
		t.Fatalf("readyz should report storage: %s", res.Body)
	}
	// Make the media directory unusable: readiness must drop.
	if err := os.RemoveAll(env.App.Config.MediaDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(env.App.Config.MediaDir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	res = c.Get("/readyz").Expect(http.StatusServiceUnavailable)
	if !strings.Contains(res.Body, `"storage":"unavailable"`) {
		t.Fatalf("readyz body %s", res.Body)
	}
}

// TestPagesAreSentWithTheirLength: rendered pages go out in one piece with
// a Content-Length (not chunked), and a compressed page never carries the
// uncompressed length. Browsers get pages, error pages included, gzipped
// (also those that accept zstd), and the page decompresses whole.
func TestPagesAreSentWithTheirLength(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleAdmin)
	get := func(path, encoding string) *apptest.Resp {
		req, _ := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
		req.Header.Set("Accept-Encoding", encoding) // set by hand: the client then leaves the body as sent
		return c.Do(req)
	}
	for path, status := range map[string]int{"/stories": 200, "/account/password": 200, "/no-such-page": 404} {
		res := get(path, "identity").Expect(status)
		if n := res.Header.Get("Content-Length"); n != strconv.Itoa(len(res.Body)) || len(res.Body) == 0 {
			t.Errorf("%s: Content-Length %q for a body of %d bytes", path, n, len(res.Body))
		}
		title := regexp.MustCompile(`<title>[^<]*</title>`).FindString(res.Body)
		for accept, want := range map[string]string{"gzip": "gzip", "gzip, deflate, br, zstd": "gzip"} {
			zipped := get(path, accept).Expect(status)
			if got := zipped.Header.Get("Content-Encoding"); got != want {
				t.Errorf("%s, Accept-Encoding %q: Content-Encoding %q, want %q", path, accept, got, want)
				continue
			}
			if n := zipped.Header.Get("Content-Length"); n != "" && n != strconv.Itoa(len(zipped.Body)) {
				t.Errorf("%s: %s body of %d bytes sent with Content-Length %s", path, want, len(zipped.Body), n)
			}
			r, err := gzip.NewReader(strings.NewReader(zipped.Body))
			if err != nil {
				t.Fatal(err)
			}
			page, err := io.ReadAll(r)
			if err != nil || title == "" || !bytes.Contains(page, []byte(title)) || !bytes.HasSuffix(bytes.TrimSpace(page), []byte("</html>")) {
				t.Errorf("%s: %s page does not decompress to the whole page (%v):\n%.200s", path, want, err, page)
			}
		}
	}
}

// TestPanicGivesAWholeErrorPage: a handler that panics gets the error page,
// compressed like any page and whole, from the compressing writer of its own
// request (a panic used to reach the recovery after gzhttp had finished and
// pooled that writer).
func TestPanicGivesAWholeErrorPage(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleAdmin)
	env.App.Web.Echo().GET("/test/panic", func(echo.Context) error { panic("handler bug") })
	for _, accept := range []string{"identity", "gzip"} {
		req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/test/panic", nil)
		req.Header.Set("Accept-Encoding", accept) // set by hand: the client then leaves the body as sent
		res := c.Do(req).Expect(http.StatusInternalServerError)
		body := res.Body
		if accept == "gzip" {
			if res.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("the error page is not gzipped: %v", res.Header)
			}
			r, err := gzip.NewReader(strings.NewReader(res.Body))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			body = string(b)
		}
		if !strings.Contains(body, "<title>") || !strings.HasSuffix(strings.TrimSpace(body), "</html>") || strings.Contains(body, "handler bug") {
			t.Fatalf("%s: not the whole error page (or it shows the panic):\n%.300s", accept, body)
		}
	}
	if logs := env.Logs.String(); !strings.Contains(logs, "msg=panic") || !strings.Contains(logs, "handler bug") {
		t.Fatal("the panic was not logged")
	}
}

// TestNavigationMarksTheCurrentPage: the header lists the role's screens and
// marks the one being shown, and only that one.
func TestNavigationMarksTheCurrentPage(t *testing.T) {
	env := apptest.New(t)
	admin, _ := env.SignedIn(models.RoleAdmin)
	nav := admin.Get("/admin/users").Expect(http.StatusOK).Doc.Find(`nav[aria-label="Main"] a`)
	var hrefs, current []string
	nav.Each(func(_ int, a *goquery.Selection) {
		hrefs = append(hrefs, a.AttrOr("href", ""))
		if a.AttrOr("aria-current", "") == "page" {
			current = append(current, a.AttrOr("href", "")+" "+a.Text())
		}
	})
	if len(current) != 1 || current[0] != "/admin/users Users" {
		t.Errorf("current page marked as %q, want only /admin/users", current)
	}
	if !slices.Contains(hrefs, "/stories") || !slices.Contains(hrefs, "/admin/audit") {
		t.Errorf("admin navigation %q lacks stories or the audit log", hrefs)
	}
	teller, _ := env.SignedIn(models.RoleStoryteller)
	if teller.Get("/stories").Doc.Find(`nav[aria-label="Main"] a[href="/admin/users"]`).Length() != 0 {
		t.Error("a storyteller's navigation links to user management")
	}
}
