package web

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/models"
)

// landingPages keeps the rendered identity check page of a consent link,
// the page a patient opens from the invitation email, so opening it costs
// the link's look-up and no template run. What varies per visitor (the
// CSRF token, bound to their cookies) is written into the stored bytes at
// a marker; everything else on the page follows from the key. The link's
// status is still looked up on every request (patientRequest): a used,
// expired or locked link never reaches this page.
type landingPages struct {
	mu sync.RWMutex
	m  map[landingKey]landingPage
}

type landingKey struct {
	path, lang                 string // the link's path (its token) and the page language
	hasEmail, codeSent, revoke bool
}

// landingPage is the page split at the CSRF token's places.
type landingPage struct {
	parts [][]byte
	until time.Time
}

// csrfMark stands for the CSRF token while the page is rendered; it is
// made of characters no escaper changes, like a real token.
const csrfMark = "CSRFMARKxq7ZfW2pLk9vT3nB8yR5aJ0cH6dG4eS1uIo"

// landingTTL bounds an entry: the texts are built in, but a page is not
// kept once nobody asks for it.
const landingTTL = time.Minute

const landingMax = 2048

func (l *landingPages) get(k landingKey, now time.Time) ([][]byte, bool) {
	l.mu.RLock()
	p, ok := l.m[k]
	l.mu.RUnlock()
	if !ok || now.After(p.until) {
		return nil, false
	}
	return p.parts, true
}

func (l *landingPages) put(k landingKey, parts [][]byte, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= landingMax {
		l.m = map[landingKey]landingPage{}
	}
	l.m[k] = landingPage{parts: parts, until: now.Add(landingTTL)}
}

// writeLanding writes the stored page with this visitor's CSRF token.
func writeLanding(c echo.Context, parts [][]byte, csrf string) error {
	n := len(csrf) * (len(parts) - 1)
	for _, p := range parts {
		n += len(p)
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	buf.Grow(n)
	for i, p := range parts {
		if i > 0 {
			buf.WriteString(csrf)
		}
		buf.Write(p)
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// renderLanding renders p (the identity check page, status 200, no
// problem shown) once per key and serves the stored bytes after that.
func (s *Server) renderLanding(c echo.Context, k landingKey, p Page) error {
	now := time.Now()
	if parts, ok := s.landing.get(k, now); ok {
		return writeLanding(c, parts, p.CSRF)
	}
	csrf := p.CSRF
	p.CSRF = csrfMark
	var buf bytes.Buffer
	if err := s.renderer.execute(&buf, "consent_patient_verify", p); err != nil {
		return err
	}
	parts := bytes.Split(buf.Bytes(), []byte(csrfMark))
	if len(parts) < 2 || csrf == "" {
		// No form on the page, or no token to put in it: render as usual.
		p.CSRF = csrf
		return s.renderer.write(c, http.StatusOK, "consent_patient_verify", p)
	}
	s.landing.put(k, parts, now)
	return writeLanding(c, parts, csrf)
}

// linkState is a consent link's light look-up, as the public cache keeps it.
type linkState struct {
	r        models.ConsentRequest
	hasEmail bool
}

// findLink is consent.FindLink through the public cache: consent_requests
// and patients are public tables (migration 00120), so any change to the
// request or the patient's email, on any replica, ends the entry, exactly
// as for a public page. The link's own expiry is checked by the caller on
// every request (LinkOpen). The caller gets a copy it may change.
func (s *Server) findLink(c echo.Context) (*models.ConsentRequest, bool, error) {
	ctx := c.Request().Context()
	token := c.Param("token")
	if !consent.ValidTokenShape(token) {
		return nil, false, consent.ErrLinkNotUsable
	}
	t := s.pcache.Begin(ctx)
	key := "link:" + consent.HashToken(token)
	if e := s.pcache.Get(t, key); e != nil {
		ls := e.Value.(*linkState)
		r := ls.r
		return &r, ls.hasEmail, nil
	}
	r, hasEmail, err := s.consent.FindLink(ctx, token)
	if err != nil {
		return nil, false, err
	}
	s.pcache.Put(ctx, t, key, "", &publiccache.Entry{Value: &linkState{r: *r, hasEmail: hasEmail}})
	return r, hasEmail, nil
}
