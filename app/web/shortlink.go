package web

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// shortlinkFollow counts a click and redirects to the public story with UTM
// tags. Nothing about the visitor is stored.
func (s *Server) shortlinkFollow(c echo.Context) error {
	to, err := s.export.Follow(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return c.Redirect(http.StatusFound, to)
}

// shortlinkMedia serves an image sent with a webhook delivery to whoever
// holds its sealed link, until it expires or the post is taken down.
func (s *Server) shortlinkMedia(c echo.Context) error {
	rc, info, err := s.export.OpenMedia(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	defer rc.Close()
	ct := info.ContentType
	if ct == "" {
		ct = "image/jpeg"
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	c.Response().Header().Set(echo.HeaderContentType, ct)
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}
