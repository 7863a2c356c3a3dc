package web

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/disclosure"
)

// Feeds and the sitemap list at most this many stories, newest first; each
// costs a consent check per request, so a revoked story drops out at once.
const feedLimit, sitemapLimit = 50, 500

// liveEntries are the feed entries of the live stories, as the disclosure
// package made them. An entry whose bytes still name a patient beyond the
// consent is left out (and logged without the name).
func (s *Server) liveEntries(c echo.Context, limit int) ([]disclosure.FeedEntry, time.Time, error) {
	list, err := s.website.List(c.Request().Context(), "", limit)
	updated := time.Unix(0, 0).UTC()
	var out []disclosure.FeedEntry
	for _, st := range list {
		e := st.Feed(s.absURL)
		if err := st.Names.Check("feed entry", strings.Join(append([]string{e.URL, e.Title, e.Summary, e.ContentHTML}, e.Tags...), "\n")); err != nil {
			s.log.Warn("feed entry refused: a withheld name survived", "story_id", st.StoryID)
			continue
		}
		if st.Modified.After(updated) {
			updated = st.Modified
		}
		out = append(out, e)
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return out, updated, err
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	Title      string         `xml:"title"`
	ID         string         `xml:"id"`
	Link       atomLink       `xml:"link"`
	Published  string         `xml:"published"`
	Updated    string         `xml:"updated"`
	Summary    string         `xml:"summary,omitempty"`
	Content    atomText       `xml:"content"`
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomFeed struct {
	XMLName xml.Name   `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string     `xml:"title"`
	ID      string     `xml:"id"`
	Updated string     `xml:"updated"`
	Links   []atomLink `xml:"link"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

// publicAtom is the Atom feed of the live stories.
func (s *Server) publicAtom(c echo.Context) error {
	list, updated, err := s.liveEntries(c, feedLimit)
	if err != nil {
		return err
	}
	f := atomFeed{Title: s.cfg.SiteTitle, ID: s.absURL("/p"), Updated: updated.Format(time.RFC3339),
		Links: []atomLink{{"self", s.absURL("/feed.atom")}, {"alternate", s.absURL("/p")}}}
	f.Author.Name = s.cfg.OrganisationName
	for _, st := range list {
		e := atomEntry{Title: st.Title, ID: st.URL, Link: atomLink{"alternate", st.URL},
			Published: st.Published.Format(time.RFC3339), Updated: st.Modified.Format(time.RFC3339), Summary: st.Summary,
			Content: atomText{Type: "html", Body: st.ContentHTML}}
		for _, t := range st.Tags {
			e.Categories = append(e.Categories, atomCategory{t})
		}
		f.Entries = append(f.Entries, e)
	}
	return writeXML(c, "application/atom+xml; charset=utf-8", f)
}

// publicJSONFeed is the same list as JSON Feed 1.1.
func (s *Server) publicJSONFeed(c echo.Context) error {
	list, _, err := s.liveEntries(c, feedLimit)
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, st := range list {
		it := map[string]any{"id": st.URL, "url": st.URL, "title": st.Title, "summary": st.Summary, "content_html": st.ContentHTML,
			"date_published": st.Published.Format(time.RFC3339), "date_modified": st.Modified.Format(time.RFC3339)}
		if len(st.Tags) > 0 {
			it["tags"] = st.Tags
		}
		items = append(items, it)
	}
	c.Response().Header().Set("Content-Type", "application/feed+json; charset=utf-8")
	return c.JSON(http.StatusOK, map[string]any{"version": "https://jsonfeed.org/version/1.1", "title": s.cfg.SiteTitle,
		"home_page_url": s.absURL("/p"), "feed_url": s.absURL("/feed.json"), "language": "en",
		"authors": []map[string]string{{"name": s.cfg.OrganisationName}}, "items": items})
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// publicSitemap lists the index and every live story for search engines.
func (s *Server) publicSitemap(c echo.Context) error {
	list, updated, err := s.liveEntries(c, sitemapLimit)
	if err != nil {
		return err
	}
	urls := []sitemapURL{{Loc: s.absURL("/p")}}
	if len(list) > 0 {
		urls[0].LastMod = updated.Format(time.RFC3339)
	}
	for _, st := range list {
		urls = append(urls, sitemapURL{st.URL, st.Modified.Format(time.RFC3339)})
	}
	return writeXML(c, "application/xml; charset=utf-8", struct {
		XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []sitemapURL `xml:"url"`
	}{URLs: urls})
}

func writeXML(c echo.Context, contentType string, v any) error {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, contentType, append([]byte(xml.Header), b...))
}
