package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/models"
)

// publicImage streams a crop of an allowed photo of a live story. Only a
// versioned address of an allowed photo may be cached for long; the moment
// consent ends the address answers 410 (caches already holding the image
// keep it until purged: see README "Website").
func (s *Server) publicImage(c echo.Context) error {
	r, err := s.publicCrop(c)
	if err != nil {
		return s.publicError(c, err)
	}
	// The bytes must still be the ones recorded when the crop was made;
	// a mismatch is audited and the picture is not served.
	if err := s.verifier.Verify(c.Request().Context(), r.AssetID, r.StorageKey, r.SHA256); err != nil {
		if errors.Is(err, disclosure.ErrTampered) {
			return s.publicError(c, apperr.New(http.StatusGone, "This picture cannot be shown."))
		}
		return err
	}
	immutable := c.QueryParam("v") != "" && len(r.SHA256) >= 12 && c.QueryParam("v") == r.SHA256[:12]
	res := c.Response()
	etag := `"` + r.SHA256 + `"`
	res.Header().Set("ETag", etag)
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && publiccache.NotModified(c.Request(), &publiccache.Entry{ETag: etag}) {
		if immutable {
			res.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			res.Header().Set("Cache-Control", "no-cache")
		}
		return c.NoContent(http.StatusNotModified)
	}
	// streamObject marks media private; the public crop overrides that
	// just before the header is written, once the status is known.
	res.Before(func() {
		switch {
		case res.Status >= 300:
			res.Header().Set("Cache-Control", "no-store")
		case immutable:
			res.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		default:
			res.Header().Set("Cache-Control", "no-cache")
		}
	})
	return s.streamObject(c, r.StorageKey, "image/jpeg", "")
}

// publicCrop is the crop the disclosure's page allows at this address,
// from the public cache when the gate allows caching: the decision, not
// the bytes, which are streamed (and verified) on every request.
func (s *Server) publicCrop(c echo.Context) (*models.MediaRendition, error) {
	ctx := c.Request().Context()
	var t publiccache.Ticket
	if s.website.Cacheable() {
		t = s.pcache.Begin(ctx)
	}
	key := "img:" + c.Param("slug") + "/" + c.Param("asset") + "/" + c.Param("name")
	if e := s.pcache.Get(t, key); e != nil {
		return e.Value.(*models.MediaRendition), nil
	}
	r, err := s.website.Image(ctx, c.Param("slug"), c.Param("asset"), c.Param("name"))
	if err != nil {
		return nil, err
	}
	s.pcache.Put(ctx, t, key, "", &publiccache.Entry{Value: r})
	return r, nil
}
