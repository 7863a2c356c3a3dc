package web

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/publiccache"
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
	return s.publicCached(c, "index:"+tag, func() (*publiccache.Entry, string, error) {
		list, err := s.website.List(c.Request().Context(), tag, publicIndexLimit)
		if err != nil {
			return nil, "", err
		}
		if tag != "" && len(list) == 0 {
			return nil, "", s.publicError(c, website.ErrNotFound)
		}
		var tags []string
		state := pagesState(list)
		for _, st := range list {
			tags = append(tags, st.Tags...)
		}
		slices.Sort(tags)
		title, path := s.cfg.SiteTitle, "/p"
		if tag != "" {
			title, path = "Stories tagged “"+tag+"”", "/p/tag/"+url.PathEscape(tag)
		}
		var buf bytes.Buffer
		if err := s.renderer.execute(&buf, "public_index", publicPage{Title: title, Description: "Stories our patients chose to share.", Canonical: s.absURL(path),
			SiteTitle: s.cfg.SiteTitle, Data: map[string]any{"Stories": list, "Tags": slices.Compact(tags), "Tag": tag}}); err != nil {
			return nil, "", err
		}
		return publicHTML(buf.Bytes()), state, nil
	})
}

// pagesState is the state of a list of pages, for the ETag of the index and
// feeds that show them.
func pagesState(list []website.Story) string {
	var b strings.Builder
	for _, st := range list {
		b.WriteString(st.Slug)
		b.WriteByte(' ')
		b.WriteString(st.State)
		b.WriteByte('\n')
	}
	return b.String()
}
