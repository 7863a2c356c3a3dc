package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/cdn"
)

// What a public response is, for the CDN: a story's page or picture
// (surrogate key of the story), or a list that may show any story.
const (
	cdnStory = iota
	cdnList
)

// cdnPublic adapts a public response for the configured CDN (docs/cdn.md),
// and does nothing without one. At the moment the header is written (after
// the handler and any cache in front of it chose theirs):
//   - a successful page, feed or sitemap that says "no-cache" may be kept
//     by the CDN for STORYKEEP_CDN_S_MAXAGE, never by browsers
//     (public, max-age=0, s-maxage=N, must-revalidate): the CDN is purged
//     when the story is withdrawn, a browser cannot be;
//   - a versioned picture (immutable for browsers) gets the same s-maxage,
//     so the CDN asks again after N even if every purge failed;
//   - with Fastly, Surrogate-Key names the story (page, pictures) or the
//     lists, which the purge job purges by key;
//   - errors (404, 410 with no-store) are left alone: they are never cached.
func (s *Server) cdnPublic(kind int, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.cfg.CDN.On() {
			return h(c)
		}
		key := cdn.ListsKey
		if kind == cdnStory {
			key = cdn.StoryKey(c.Param("slug"))
		}
		res := c.Response()
		res.Writer = &cdnWriter{ResponseWriter: res.Writer, apply: func(hd http.Header, status int) {
			if status != http.StatusOK && status != http.StatusNotModified && status != http.StatusPartialContent {
				return
			}
			if s.cfg.CDN.Provider == "fastly" {
				hd.Set("Surrogate-Key", key)
			}
			sec := int(s.cfg.CDN.SMaxAge.Seconds())
			if sec <= 0 {
				return
			}
			switch cc := hd.Get("Cache-Control"); {
			case cc == "" || cc == "no-cache":
				hd.Set("Cache-Control", fmt.Sprintf("public, max-age=0, s-maxage=%d, must-revalidate", sec))
			case strings.Contains(cc, "immutable") && !strings.Contains(cc, "s-maxage"):
				hd.Set("Cache-Control", fmt.Sprintf("%s, s-maxage=%d", cc, sec))
			}
		}}
		return h(c)
	}
}

// cdnWriter adjusts the headers once, when they are written.
type cdnWriter struct {
	http.ResponseWriter
	apply func(http.Header, int)
	done  bool
}

func (w *cdnWriter) WriteHeader(status int) {
	if !w.done {
		w.done = true
		w.apply(w.Header(), status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *cdnWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *cdnWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *cdnWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
