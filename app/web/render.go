package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/handoff"
	"github.com/storykeep/storykeep/app/markdown"
	"github.com/storykeep/storykeep/models"
	"github.com/storykeep/storykeep/static"
	"github.com/storykeep/storykeep/views"
)

// Renderer holds every page parsed once at start as layout + partials + page.
type Renderer struct {
	pages map[string]*template.Template
}

var roleLabels = map[string]string{
	models.RoleAdmin:       "Admin",
	models.RoleStoryteller: "Storyteller",
	models.RoleReviewer:    "Legal reviewer",
	models.RolePublisher:   "Publisher",
}

// NewRenderer parses all templates; any error stops the server at start.
func NewRenderer(assets *static.Assets) (*Renderer, error) {
	funcs := template.FuncMap{
		"asset": assets.URL,
		"csrfField": func(token string) template.HTML {
			return template.HTML(`<input type="hidden" name="_csrf" value="` + template.HTMLEscapeString(token) + `">`)
		},
		// Consent: the inbox names consent notifications; patient pages
		// render Markdown (story, authorization) safely.
		"notificationLabel": consent.NotificationLabel,
		"handoffLabel":      handoff.Label,
		"markdown":          markdown.Render,
		"roleLabel": func(r string) string {
			if l, ok := roleLabels[r]; ok {
				return l
			}
			return r
		},
	}
	shared := []string{}
	for _, dir := range []string{"layouts", "partials"} {
		names, err := fs.Glob(views.FS, dir+"/*.html")
		if err != nil {
			return nil, err
		}
		shared = append(shared, names...)
	}
	pages, err := fs.Glob(views.FS, "pages/*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(views.FS, append(append([]string{}, shared...), p)...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", p, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Has reports whether a page template exists.
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }

// Names lists every page template (for the test that renders them all).
func (r *Renderer) Names() []string {
	out := make([]string, 0, len(r.pages))
	for k := range r.pages {
		out = append(out, k)
	}
	return out
}

func (r *Renderer) execute(buf *bytes.Buffer, name string, data any) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	return t.ExecuteTemplate(buf, layoutOf(name), data)
}

// write renders a page and sends it in one piece with its length, so the
// response is not chunked: one write to the connection fewer, and a
// template error still becomes a clean error page instead of half a page.
func (r *Renderer) write(c echo.Context, status int, name string, data any) error {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := r.execute(buf, name, data); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// pageBuffers reuses render buffers: a page is tens of kilobytes, and
// growing a fresh buffer to that size was a measurable share of a list's
// allocations.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putPageBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // let an unusually large page's buffer go
		return
	}
	b.Reset()
	pageBuffers.Put(b)
}

// patientPagePrefix marks pages a patient sees without an account: they use
// the minimal "patient-base" layout (views/layouts/patient.html), with no
// staff navigation.
const patientPagePrefix = "consent_patient_"

func layoutOf(page string) string {
	if strings.HasPrefix(page, patientPagePrefix) {
		return "patient-base"
	}
	if strings.HasPrefix(page, publicPagePrefix) {
		return "public-base" // views/layouts/public.html: the public website
	}
	return "base"
}

// NavItem is one link in the main navigation.
type NavItem struct {
	Href, Label string
	Current     bool
}

// Page is what every page template receives; Server.page fills the common parts.
type Page struct {
	Title   string
	Lang    string
	User    *models.User
	CSRF    string
	Flash   string
	Nav     []NavItem
	NavHTML template.HTML // Nav as list items, for the header (navHTML)
	Narrow  bool
	Version string
	Errors  map[string]string
	Form    map[string]string
	Data    any
}

// render writes page name with status.
func (s *Server) render(c echo.Context, status int, name string, p Page) error {
	s.fillPage(c, &p)
	return s.renderer.write(c, status, name, p)
}

func (s *Server) fillPage(c echo.Context, p *Page) {
	p.CSRF = s.csrfToken(c)
	p.User = currentUser(c)
	p.Version = Version
	if p.Flash == "" {
		p.Flash = s.sessions.PopString(c.Request().Context(), "flash")
	}
	if p.User != nil {
		p.Nav = s.nav(c, p.User)
		p.NavHTML = navHTML(p.Nav)
	}
}

// navHTML writes the navigation's list items. It is built here rather than
// in the header template, where html/template ran each value through
// several reflective escaper calls: a third of a short page's rendering.
// Labels are escaped here; hrefs are navEntries' fixed paths, escaped too.
func navHTML(items []NavItem) template.HTML {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(`<li><a href="`)
		escapeTo(&b, it.Href)
		b.WriteByte('"')
		if it.Current {
			b.WriteString(` aria-current="page"`)
		}
		b.WriteByte('>')
		escapeTo(&b, it.Label)
		b.WriteString("</a></li>")
	}
	return template.HTML(b.String())
}

// flash stores a message shown on the next page (post/redirect/get).
func (s *Server) flash(c echo.Context, msg string) {
	s.sessions.Put(c.Request().Context(), "flash", msg)
}

func (s *Server) redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}
