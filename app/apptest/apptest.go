// Package apptest starts a real Storykeep (real router, real database from
// dbtest) behind httptest and gives tests a browser-like client with a cookie
// jar, CSRF handling and goquery-parsed pages.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/organisation"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// Env is a running Storykeep for one test.
type Env struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	Logs   *SafeBuffer
}

// Config returns a test configuration over a fresh database, adjusted by mods.
func Config(t testing.TB, mods ...func(*config.Config)) *config.Config {
	t.Helper()
	dbc := dbtest.New(t)
	env := map[string]string{
		"STORYKEEP_DATA_DIR":     t.TempDir(),
		"STORYKEEP_DATABASE_URL": dbc.Driver + ":" + dbc.DSN,
		// Test receivers (exporttest, httptest) listen on loopback; allow
		// it explicitly, as an admin would an on-premises host (F16).
		"STORYKEEP_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost,::1",
	}
	if dbc.Driver == "postgres" {
		env["STORYKEEP_DATABASE_URL"] = dbc.DSN
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		m(cfg)
	}
	return cfg
}

// TestOrganisation is the organisation profile every test Storykeep starts with.
var TestOrganisation = organisation.Profile{LegalName: "Hospital Señora de la Peña, Inc.", PostalAddress: "1 Calle Mayor\nSpringfield, IL 62701",
	Phone: "+1 555 010 0100", PrivacyEmail: "privacy@hospital.test", TimeZone: "America/Chicago"}

// New starts Storykeep with a test config adjusted by mods.
func New(t testing.TB, mods ...func(*config.Config)) *Env {
	t.Helper()
	return Start(t, Config(t, mods...))
}

// Start starts Storykeep over cfg (from Config), for tests that first fill
// its database another way, e.g. by running a command on it.
func Start(t testing.TB, cfg *config.Config) *Env {
	t.Helper()
	logs := &SafeBuffer{}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// A configured organisation, as every real install has before it sends
	// consent requests (Admin → Organisation); tests of the refusal clear it.
	if err := a.Consent.Organisation.Save(audit.WithActor(context.Background(), audit.System), "", TestOrganisation); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Web.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &Env{T: t, App: a, Server: srv, Logs: logs}
}

// CreateUser adds an active user with a known password that need not be changed.
func (e *Env) CreateUser(role string) (*models.User, string) {
	e.T.Helper()
	pw := "correct horse battery " + role
	u, err := e.App.Users.Create(audit.WithActor(context.Background(), audit.System), users.NewUser{
		Email: role + "-" + time.Now().Format("150405.000000") + "@hospital.test", Name: strings.ToUpper(role[:1]) + role[1:] + " Person", Role: role, Password: pw,
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return u, pw
}

// Client is a browser-like client: it keeps cookies and does not follow redirects.
type Client struct {
	env *Env
	hc  *http.Client
}

// Client returns a new client with an empty cookie jar.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{env: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// SignedIn returns a client signed in as a new user of role.
func (e *Env) SignedIn(role string) (*Client, *models.User) {
	e.T.Helper()
	u, pw := e.CreateUser(role)
	c := e.Client()
	c.Login(u.Email, pw).Expect(303)
	return c, u
}

// Resp is a response with its body read and parsed.
type Resp struct {
	t      testing.TB
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// Expect fails the test unless the status is want.
func (r *Resp) Expect(want int) *Resp {
	r.t.Helper()
	if r.Status != want {
		r.t.Fatalf("status %d, want %d; body:\n%s", r.Status, want, r.Text("main"))
	}
	return r
}

// Text returns the trimmed text of the first element matching sel.
func (r *Resp) Text(sel string) string {
	return strings.Join(strings.Fields(r.Doc.Find(sel).First().Text()), " ")
}

// Contains fails the test unless the page text contains s.
func (r *Resp) Contains(s string) *Resp {
	r.t.Helper()
	if !strings.Contains(strings.Join(strings.Fields(r.Doc.Text()), " "), s) {
		r.t.Fatalf("page does not contain %q; main text:\n%s", s, r.Text("main"))
	}
	return r
}

// Location returns the redirect target's path.
func (r *Resp) Location() string {
	u, _ := url.Parse(r.Header.Get("Location"))
	if u == nil {
		return ""
	}
	return u.RequestURI()
}

// Do sends a request.
func (c *Client) Do(req *http.Request) *Resp {
	c.env.T.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.env.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	return &Resp{t: c.env.T, Status: res.StatusCode, Header: res.Header, Body: string(b), Doc: doc}
}

// Get fetches path.
func (c *Client) Get(path string) *Resp {
	c.env.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.env.Server.URL+path, nil)
	return c.Do(req)
}

// CSRF returns the CSRF token that goes with the client's cookies (the
// session and the CSRF nonce), fetching the sign-in page first if needed.
func (c *Client) CSRF() string {
	u, _ := url.Parse(c.env.Server.URL)
	token := func() string {
		var sess, nonce string
		for _, ck := range c.hc.Jar.Cookies(u) {
			switch ck.Name {
			case "storykeep_csrf":
				nonce = ck.Value
			case "storykeep_session":
				sess = ck.Value
			}
		}
		if nonce == "" {
			return ""
		}
		return c.env.App.Web.CSRFTokenFor(sess, nonce)
	}
	if t := token(); t != "" {
		return t
	}
	c.Get("/login")
	if t := token(); t != "" {
		return t
	}
	c.env.T.Fatal("no CSRF cookie")
	return ""
}

// Post submits a form with the CSRF token added.
func (c *Client) Post(path string, form url.Values) *Resp {
	c.env.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.CSRF())
	return c.PostRaw(path, form)
}

// PostRaw submits a form exactly as given (no CSRF token added).
func (c *Client) PostRaw(path string, form url.Values) *Resp {
	c.env.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.env.Server.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Login posts the sign-in form.
func (c *Client) Login(email, password string) *Resp {
	c.env.T.Helper()
	return c.Post("/login", url.Values{"email": {email}, "password": {password}})
}

// SafeBuffer collects log output written from many goroutines.
type SafeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write implements io.Writer.
func (l *SafeBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *SafeBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// MarkApproved puts a story straight into "approved" for chans (nil: all its
// channels), as a legal reviewer's approval would, for tests whose subject
// comes after review. Tests of review itself go through the service.
func (e *Env) MarkApproved(t testing.TB, storyID string, chans ...string) {
	t.Helper()
	var st models.Story
	if err := e.App.DB.Where("id = ?", storyID).Take(&st).Error; err != nil {
		t.Fatal(err)
	}
	if chans == nil {
		if err := e.App.DB.Model(&models.StoryChannel{}).Where("story_id = ?", storyID).Pluck("channel", &chans).Error; err != nil {
			t.Fatal(err)
		}
	}
	id := uuid.Must(uuid.NewV7()).String()
	err := e.App.DB.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&st).Update("stage", "approved").Error; err != nil {
			return err
		}
		if err := tx.Create(&models.StoryApproval{ID: id, StoryID: storyID, Revision: st.Revision, ReviewerID: "test", CreatedAt: time.Now().UTC()}).Error; err != nil {
			return err
		}
		for _, c := range chans {
			if err := tx.Create(&models.StoryApprovalChannel{ApprovalID: id, Channel: c}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Jar is the client's cookie jar (to plant cookies as an attacker would).
func (c *Client) Jar() http.CookieJar { return c.hc.Jar }
