package web

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/models"
)

const userKey = "user"

func currentUser(c echo.Context) *models.User {
	u, _ := c.Get(userKey).(*models.User)
	return u
}

// contentSecurityPolicy allows only same-origin scripts and styles: no inline
// script, no eval, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries. The values are
// built once and shared by every response (net/http copies a header's
// values when it writes them, and Set replaces a slice rather than
// changing it), so the busiest pages, the public ones served from the
// render cache, do not allocate them per request.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := strings.HasPrefix(s.cfg.PublicURL, "https://")
	return func(c echo.Context) error {
		h := c.Response().Header()
		for _, kv := range securityHeaderValues {
			h[kv.key] = kv.value
		}
		if hsts || c.Request().TLS != nil {
			h["Strict-Transport-Security"] = strictTransportSecurity
		}
		return next(c)
	}
}

// securityHeaderValues are the headers securityHeaders sets, under their
// canonical names.
var securityHeaderValues = []struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{contentSecurityPolicy}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	// Consent and revocation links carry secrets in the path: never leak them.
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), interest-cohort=()"}},
}

var strictTransportSecurity = []string{"max-age=63072000; includeSubDomains"}

// accessLog logs one structured line per request. It logs the route pattern,
// never the raw URL, because URLs can carry tokens and ids of patients.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		route := c.Path()
		if route == "" {
			route = "(unmatched)"
		}
		s.metrics.observe(c.Request().Method, route, status, time.Since(start))
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", c.Response().Size),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
		)
		return nil
	}
}

// loadUser reads the signed-in user from the session and puts the user and
// the audit actor in the request context. A disabled or deleted user's
// session is destroyed.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		actor := audit.Actor{ID: "anonymous", Label: "anonymous", IP: c.RealIP(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
		if id := s.sessions.GetString(ctx, auth.UserKey); id != "" {
			u, ok := auth.SessionUser(ctx, id)
			var err error
			if !ok {
				u, err = s.users.Get(ctx, id)
			}
			switch {
			case err == nil && u.Active():
				c.Set(userKey, u)
				actor.ID, actor.Label = u.ID, u.Email
			case err == nil || isNotFound(err):
				_ = s.sessions.Destroy(ctx)
			default:
				return err
			}
		}
		c.SetRequest(c.Request().WithContext(audit.WithActor(c.Request().Context(), actor)))
		return next(c)
	}
}

// require wraps a handler with the permission its route needs. Unsigned
// visitors are sent to sign in; signed-in users without the permission get 403.
func (s *Server) require(p authz.Perm, h echo.HandlerFunc) echo.HandlerFunc {
	if p == authz.Public {
		return func(c echo.Context) error {
			if privatePublic(c.Path()) {
				c.Response().Header().Set("Cache-Control", "no-store")
			}
			return h(c)
		}
	}
	return func(c echo.Context) error {
		// Staff pages show patient details: no browser or proxy keeps them
		// (F19). Handlers may still set their own (downloads, streams).
		c.Response().Header().Set("Cache-Control", "no-store")
		u := currentUser(c)
		if u == nil {
			if c.Request().Method == http.MethodGet {
				return s.redirect(c, "/login?next="+nextEscaper.Replace(safeNext(c.Request().URL.RequestURI())))
			}
			return echo.NewHTTPError(http.StatusUnauthorized, "Your session has ended. Sign in again; your last change was not saved.")
		}
		// Before anything else: a temporary password must be replaced, and
		// admins may be required to enrol in two-step sign-in.
		path := c.Path()
		if u.MustChangePassword && path != "/account/password" {
			return s.redirect(c, "/account/password")
		}
		if s.cfg.RequireAdmin2FA && u.Role == models.RoleAdmin && !u.TOTPEnabled && !strings.HasPrefix(path, "/account/") && !s.signedInWithSSO(c) {
			return s.redirect(c, "/account/2fa")
		}
		if !s.authz.Allowed(authz.Subject{UserID: u.ID, Role: u.Role}, p) {
			return echo.NewHTTPError(http.StatusForbidden, "Your role ("+roleLabels[u.Role]+") does not allow this. Ask an admin if you need access.")
		}
		return h(c)
	}
}

// nextEscaper puts a path with its query into the next parameter readably,
// escaping only what would end or change the parameter.
var nextEscaper = strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23")

// privatePublic: routes open without a staff sign-in that still show a
// person's details (the patient's consent and revocation pages, sign-in).
func privatePublic(path string) bool {
	return strings.HasPrefix(path, "/c/") || strings.HasPrefix(path, "/r/") || strings.HasPrefix(path, "/login")
}

// safeNext keeps a post-sign-in redirect on this site (F6). It accepts only
// a plain local path (and query): printable ASCII without spaces or
// backslashes, starting with one slash, neither raw nor once decoded. Browsers
// drop tabs and newlines and read a backslash as a slash, so "/\t/evil" or
// "/\\evil" would leave the site; anything odd means the home page.
func safeNext(next string) string {
	if !localPath(next, '!') {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// The decoded path, too: a proxy or browser quirk that decodes
	// %2F, %5C or %09 must not find "//" or a backslash either.
	if !localPath(u.Path, ' ') {
		return "/"
	}
	return next
}

// localPath: p starts with exactly one slash and holds only printable ASCII
// above floor, and no backslash.
func localPath(p string, floor byte) bool {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' || (len(p) > 1 && p[1] == '/') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b < floor || b >= 0x7f || b == '\\' {
			return false
		}
	}
	return true
}

// metricsAuth guards /metrics with a bearer token; without a configured token
// the endpoint does not exist.
func (s *Server) metricsAuth(c echo.Context) bool {
	if s.cfg.MetricsToken == "" {
		return false
	}
	got := strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.MetricsToken)) == 1
}
