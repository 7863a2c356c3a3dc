package web

import (
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/website"
)

// publicIndexLimit bounds the index: every listed story costs a consent
// check per request.
const publicIndexLimit = 100

// publicIndex lists the published, still allowed stories, all or by tag.
func (s *Server) publicIndex(c echo.Context) error {
	tag := c.Param("tag")
	if len(tag) > 200 {
		return s.publicError(c, website.ErrNotFound)
	}
	list, err := s.website.List(c.Request().Context(), tag, publicIndexLimit)
	if err != nil {
		return err
	}
	if tag != "" && len(list) == 0 {
		return s.publicError(c, website.ErrNotFound)
	}
	var tags []string
	for _, st := range list {
		tags = append(tags, st.Tags...)
	}
	slices.Sort(tags)
	title, path := s.cfg.SiteTitle, "/p"
	if tag != "" {
		title, path = "Stories tagged “"+tag+"”", "/p/tag/"+url.PathEscape(tag)
	}
	return s.renderPublic(c, 200, "public_index", publicPage{Title: title, Description: "Stories our patients chose to share.", Canonical: s.absURL(path),
		Data: map[string]any{"Stories": list, "Tags": slices.Compact(tags), "Tag": tag}})
}
