package web

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/disclosure"
)

// publicPage is what the public layout and pages receive. It is not Page:
// the public website has no user, session, CSRF token or flash.
type publicPage struct {
	Title       string // the page's own title; the layout adds the site title
	Description string
	SiteTitle   string
	Canonical   string // absolute URL of this page
	Meta        *shareMeta
	JSONLD      any // marshalled by html/template inside the ld+json block
	Data        any
}

// shareMeta feeds the OpenGraph and Twitter card tags of a story page.
type shareMeta struct {
	Image, ImageAlt, TwitterImage string
	Published, Modified           string
}

// renderPublic writes a public page. Nothing is cached past a revalidation:
// a revoked consent must take a page down at once.
func (s *Server) renderPublic(c echo.Context, status int, name string, p publicPage) error {
	p.SiteTitle = s.cfg.SiteTitle
	if c.Response().Header().Get("Cache-Control") == "" {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	return s.renderer.write(c, status, name, p)
}

// renderPublicChecked renders a story page into memory and refuses it
// (410, naming the field) if a withheld form of the patient's name is in
// the bytes about to leave: the last check after the disclosure package
// rewrote every field. It returns nil when it answered the refusal itself.
func (s *Server) renderPublicChecked(c echo.Context, names *disclosure.Names, name string, p publicPage) ([]byte, error) {
	p.SiteTitle = s.cfg.SiteTitle
	var buf bytes.Buffer
	if err := s.renderer.execute(&buf, name, p); err != nil {
		return nil, err
	}
	if names != nil {
		if err := names.Check("page", buf.String()); err != nil {
			s.log.Warn("public page refused: a withheld name survived rendering", "page", name)
			return nil, s.publicError(c, apperr.New(http.StatusGone, "This story cannot be shown: its page did not pass the check on the patient's name, so it was not published."))
		}
	}
	return buf.Bytes(), nil
}

// publicError shows 404 and 410 as plain public pages and leaves anything
// else to the error handler (logged, 5xx).
func (s *Server) publicError(c echo.Context, err error) error {
	e, ok := apperr.As(err)
	if !ok || (e.Status != http.StatusNotFound && e.Status != http.StatusGone) {
		return err
	}
	heading := "Page not found"
	if e.Status == http.StatusGone {
		heading = "This story is no longer available"
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.renderPublic(c, e.Status, "public_message", publicPage{Title: heading, Data: map[string]string{"Heading": heading, "Message": e.Msg}})
}

// absURL makes a site path absolute with the configured public address.
func (s *Server) absURL(path string) string { return s.cfg.PublicURL + path }
