package web

import (
	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/publiccache"
)

// publicCacheControl is what public pages, feeds and the sitemap send:
// anyone may keep a copy, but must ask again before using it (no-cache),
// which costs a 304 when nothing changed (ETag, Last-Modified). A revoked
// consent then reaches a reader's browser on their next visit, not after a
// max-age.
const publicCacheControl = "no-cache"

// precompressed are the routes served from the public cache, which keeps a
// gzip copy made once at fill: the compress middleware leaves them alone.
var precompressed = map[string]bool{"/p": true, "/p/tag/:tag": true, "/p/:slug": true,
	"/feed.atom": true, "/feed.json": true, "/sitemap.xml": true}

// publicFill renders a public response. It returns the entry to serve and
// the state it was made from, or nil when it answered itself (404, 410).
type publicFill func() (e *publiccache.Entry, state string, err error)

// publicCached serves key from the public cache, or fills it through the
// disclosure path (fill) and serves that. The cache is used only behind a
// gate whose answers follow from the database (website.Cacheable); every
// other response is rendered per request as before.
func (s *Server) publicCached(c echo.Context, key string, fill publicFill) error {
	ctx := c.Request().Context()
	var t publiccache.Ticket
	if s.website.Cacheable() {
		t = s.pcache.Begin(ctx)
	}
	e := s.pcache.Get(t, key)
	if e == nil {
		var state string
		var err error
		e, state, err = fill()
		if err != nil || e == nil {
			return err
		}
		e = s.pcache.Put(ctx, t, key, state, e)
	}
	publiccache.Serve(c.Response(), c.Request(), e, publicCacheControl)
	return nil
}

// publicHTML is a rendered public page as a cache entry.
func publicHTML(b []byte) *publiccache.Entry {
	return &publiccache.Entry{Body: b, ContentType: echo.MIMETextHTMLCharsetUTF8}
}
