package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
)

// CSRF protection (F14): a signed double-submit token bound to the session.
//
// The browser holds a random nonce in the storykeep_csrf cookie. The token a
// form carries is HMAC(key, session token | nonce), where the session token
// is the storykeep_session cookie. So:
//   - a planted nonce cookie is useless without the matching HMAC, which only
//     the server can compute, and a signed-in victim's session token is
//     secret, so no one else can compute their token;
//   - the token changes at sign-in, when the session token is renewed (and
//     the nonce is replaced too), and at sign-out;
//   - checking it needs only the request's cookies, not the database, so it
//     runs before the request takes an admission slot (F4).
//
// The token is read from the X-CSRF-Token header (script uploads and JSON)
// or the posted form's _csrf field, never from the query string, where it
// would leak into logs and Referer headers. Streamed multipart uploads
// without the header carry _csrf as their first part (see checkUploadCSRF).

const (
	csrfCookie  = "storykeep_csrf"
	csrfNonce   = "csrf_nonce"   // echo context key: this request's nonce
	csrfPending = "csrf_pending" // echo context key: check the first multipart part
	csrfHeader  = "X-CSRF-Token"
	csrfField   = "_csrf"
)

var errCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from Storykeep. Go back, reload the page and try again.")

type csrfGuard struct {
	key    []byte
	secure bool
	sm     *scs.SessionManager
}

func (g *csrfGuard) sign(session, nonce string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(session))
	m.Write([]byte{'|'})
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (g *csrfGuard) valid(c echo.Context, token string) bool {
	nonce, _ := c.Get(csrfNonce).(string)
	if token == "" || nonce == "" {
		return false
	}
	want := g.sign(requestSessionToken(c.Request()), nonce)
	return subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
}

func requestSessionToken(r *http.Request) string {
	if ck, err := r.Cookie("storykeep_session"); err == nil {
		return ck.Value
	}
	return ""
}

func newNonce() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setNonce gives the browser a new nonce (first visit, sign-in, sign-out).
func (g *csrfGuard) setNonce(c echo.Context) {
	n := newNonce()
	c.Set(csrfNonce, n)
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: n, Path: "/", HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteLaxMode, MaxAge: 86400})
}

// middleware checks unsafe requests' tokens. It runs after the body has been
// read (readBody) and before admission and the session.
func (g *csrfGuard) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if stateless[c.Path()] {
			return next(c)
		}
		if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
			c.Set(csrfNonce, ck.Value)
		} else {
			g.setNonce(c)
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		if tok := c.Request().Header.Get(csrfHeader); tok != "" {
			if !g.valid(c, tok) {
				return errCSRF
			}
			return next(c)
		}
		if uploadRoutes[c.Path()] && c.Request().Method == http.MethodPost && strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			// A streamed form (no script): mediaUpload checks its first part.
			c.Set(csrfPending, true)
			return next(c)
		}
		// The body is already in memory (readBody), so this parse is cheap.
		if !g.valid(c, c.Request().PostFormValue(csrfField)) {
			return errCSRF
		}
		return next(c)
	}
}

// token is the CSRF token for forms rendered in this request. It follows the
// session token the browser will hold after this response.
func (s *Server) csrfToken(c echo.Context) string {
	nonce, _ := c.Get(csrfNonce).(string)
	if nonce == "" {
		return ""
	}
	r := c.Request()
	sess := requestSessionToken(r)
	if r.Context().Value(sessionLoadedKey{}) != nil {
		ctx := r.Context()
		if tok := s.sessions.Token(ctx); tok != "" {
			sess = tok
		} else if s.sessions.Status(ctx) == scs.Modified {
			// A session created in this request gets its token now, so the
			// form and the cookie set with this response agree.
			if tok, _, err := s.sessions.Commit(ctx); err == nil {
				sess = tok
			}
		} else if s.sessions.Status(ctx) == scs.Destroyed {
			sess = ""
		}
	}
	return s.csrf.sign(sess, nonce)
}

// renewCSRF replaces the nonce; called at sign-in and sign-out.
func (s *Server) renewCSRF(c echo.Context) { s.csrf.setNonce(c) }

// checkUploadCSRF reads a streamed multipart upload's first part, which must
// be a valid _csrf field, unless the header already carried the token.
func (s *Server) checkUploadCSRF(c echo.Context, mr *multipart.Reader) error {
	if pending, _ := c.Get(csrfPending).(bool); !pending {
		return nil
	}
	part, err := mr.NextPart()
	if err != nil {
		return errCSRF
	}
	defer part.Close()
	b, err := io.ReadAll(io.LimitReader(part, 256))
	if err != nil || part.FormName() != csrfField || !s.csrf.valid(c, string(b)) {
		return errCSRF
	}
	return nil
}

type sessionLoadedKey struct{}

// CSRFTokenFor is the token that goes with a browser's session and CSRF
// cookies (for test clients, which read cookies rather than forms).
func (s *Server) CSRFTokenFor(sessionCookie, nonceCookie string) string {
	return s.csrf.sign(sessionCookie, nonceCookie)
}
