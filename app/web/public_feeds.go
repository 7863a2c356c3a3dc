package web

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/publiccache"
)

// Feeds and the sitemap list at most this many stories, newest first; each
// costs a consent check per request, so a revoked story drops out at once.
const feedLimit, sitemapLimit = 50, 500

// liveEntries are the feed entries of the live stories, as the disclosure
// package made them. An entry whose bytes still name a patient beyond the
// consent is left out (and logged without the name).
func (s *Server) liveEntries(c echo.Context, limit int) ([]disclosure.FeedEntry, time.Time, string, error) {
	list, err := s.website.List(c.Request().Context(), "", limit)
	updated := time.Unix(0, 0).UTC()
	var out []disclosure.FeedEntry
	state := pagesState(list)
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
	return out, updated, state, err
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
	return s.publicCached(c, "atom", func() (*publiccache.Entry, string, error) { return s.atomFeed(c) })
}

func (s *Server) atomFeed(c echo.Context) (*publiccache.Entry, string, error) {
	list, updated, state, err := s.liveEntries(c, feedLimit)
	if err != nil {
		return nil, "", err
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
	return xmlEntry("application/atom+xml; charset=utf-8", f, state)
}

// publicJSONFeed is the same list as JSON Feed 1.1.
func (s *Server) publicJSONFeed(c echo.Context) error {
	return s.publicCached(c, "jsonfeed", func() (*publiccache.Entry, string, error) { return s.jsonFeed(c) })
}

func (s *Server) jsonFeed(c echo.Context) (*publiccache.Entry, string, error) {
	list, _, state, err := s.liveEntries(c, feedLimit)
	if err != nil {
		return nil, "", err
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
	b, err := json.Marshal(map[string]any{"version": "https://jsonfeed.org/version/1.1", "title": s.cfg.SiteTitle,
		"home_page_url": s.absURL("/p"), "feed_url": s.absURL("/feed.json"), "language": "en",
		"authors": []map[string]string{{"name": s.cfg.OrganisationName}}, "items": items})
	if err != nil {
		return nil, "", err
	}
	return &publiccache.Entry{Body: append(b, '\n'), ContentType: "application/feed+json; charset=utf-8"}, state, nil
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// publicSitemap lists the index and every live story for search engines.
func (s *Server) publicSitemap(c echo.Context) error {
	return s.publicCached(c, "sitemap", func() (*publiccache.Entry, string, error) { return s.sitemap(c) })
}

func (s *Server) sitemap(c echo.Context) (*publiccache.Entry, string, error) {
	list, updated, state, err := s.liveEntries(c, sitemapLimit)
	if err != nil {
		return nil, "", err
	}
	urls := []sitemapURL{{Loc: s.absURL("/p")}}
	if len(list) > 0 {
		urls[0].LastMod = updated.Format(time.RFC3339)
	}
	for _, st := range list {
		urls = append(urls, sitemapURL{st.URL, st.Modified.Format(time.RFC3339)})
	}
	return xmlEntry("application/xml; charset=utf-8", struct {
		XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []sitemapURL `xml:"url"`
	}{URLs: urls}, state)
}

func xmlEntry(contentType string, v any, state string) (*publiccache.Entry, string, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, "", err
	}
	return &publiccache.Entry{Body: append([]byte(xml.Header), b...), ContentType: contentType}, state, nil
}
