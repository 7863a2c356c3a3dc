package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/sso"
	"github.com/storykeep/storykeep/app/users"
)

// Session keys of a single sign-on in progress (server-side only) and of
// the provider's ID token, kept as the hint for RP-initiated logout.
const (
	ssoStateKey    = "sso_state"
	ssoNonceKey    = "sso_nonce"
	ssoVerifierKey = "sso_verifier"
	ssoStartedKey  = "sso_started"
	ssoNextKey     = "sso_next"
	ssoIDTokenKey  = "sso_id_token"
)

// ssoRoutes: staff single sign-on (issue 25). They answer 404 when SSO is off.
func (s *Server) ssoRoutes() []Route {
	return []Route{
		// A link, not a form: the page's CSP (form-action 'self') would stop
		// a form submission that redirects to the provider.
		{get, "/login/sso", authz.Public, s.ssoStart},
		{get, sso.CallbackPath, authz.Public, s.ssoCallback},
	}
}

// loginPageData adds what the sign-in page shows about single sign-on.
func (s *Server) loginPageData(data map[string]any) map[string]any {
	if s.sso != nil {
		data["SSO"] = s.sso.DisplayName
		data["LocalOff"] = !s.cfg.LocalPasswords
	}
	return data
}

func (s *Server) ssoStart(c echo.Context) error {
	if s.sso == nil {
		return apperr.NotFound("Single sign-on is not set up.")
	}
	if currentUser(c) != nil {
		return s.redirect(c, "/")
	}
	ctx := c.Request().Context()
	a, to, err := s.sso.Begin(ctx)
	if err != nil {
		return s.ssoUnavailable(c, err)
	}
	s.sessions.Put(ctx, ssoStateKey, a.State)
	s.sessions.Put(ctx, ssoNonceKey, a.Nonce)
	s.sessions.Put(ctx, ssoVerifierKey, a.Verifier)
	s.sessions.Put(ctx, ssoStartedKey, strconv.FormatInt(a.Started.Unix(), 10))
	s.sessions.Put(ctx, ssoNextKey, safeNext(c.QueryParam("next")))
	return c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) ssoCallback(c echo.Context) error {
	if s.sso == nil {
		return apperr.NotFound("Single sign-on is not set up.")
	}
	ctx := c.Request().Context()
	// The attempt's secrets are spent by this request whatever happens, so a
	// replayed callback finds nothing to match.
	started, _ := strconv.ParseInt(s.sessions.PopString(ctx, ssoStartedKey), 10, 64)
	a := sso.Attempt{State: s.sessions.PopString(ctx, ssoStateKey), Nonce: s.sessions.PopString(ctx, ssoNonceKey),
		Verifier: s.sessions.PopString(ctx, ssoVerifierKey), Started: time.Unix(started, 0)}
	next := s.sessions.PopString(ctx, ssoNextKey)
	id, err := s.sso.Finish(ctx, a, c.QueryParams())
	var refusal *sso.Refusal
	switch {
	case errors.Is(err, sso.ErrUnavailable):
		return s.ssoUnavailable(c, err)
	case errors.As(err, &refusal):
		return s.ssoRefused(c, http.StatusUnauthorized, "", map[string]any{"reason": refusal.Reason},
			"Sign-in with "+s.sso.DisplayName+" did not complete. Start again from this page.")
	case err != nil:
		return err
	}
	role, ok := s.sso.Role(id.Groups)
	if !ok {
		return s.ssoRefused(c, http.StatusForbidden, s.users.SSOUserID(ctx, id.Issuer, id.Subject), map[string]any{"reason": "no mapped group", "email": id.Email},
			"Your account at "+s.sso.DisplayName+" is not in any group that may use Storykeep. Ask "+s.sso.HelpContact+" to add you to the Storykeep group for your work.")
	}
	u, err := s.users.SignInSSO(ctx, users.SSOLogin{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name, Role: role, CreateUsers: s.cfg.OIDCCreateUsers})
	if e, ok := apperr.As(err); ok {
		return s.ssoRefused(c, e.Status, s.users.SSOUserID(ctx, id.Issuer, id.Subject), map[string]any{"reason": e.Msg, "email": id.Email}, e.Msg)
	}
	if err != nil {
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, ssoIDTokenKey, id.IDToken)
	return s.completeLogin(c, u, next)
}

// ssoRefused audits a refused single sign-on and shows the sign-in page with msg.
func (s *Server) ssoRefused(c echo.Context, status int, userID string, details map[string]any, msg string) error {
	ctx := c.Request().Context()
	if err := s.audit.Record(ctx, nil, audit.Entry{Action: "session.sso_refused", ObjectType: "user", ObjectID: userID, Details: details}); err != nil {
		return err
	}
	return s.render(c, status, "login", Page{Title: "Sign in", Narrow: true, Data: s.loginPageData(map[string]any{"Error": msg})})
}

// ssoUnavailable is the page for a provider that cannot be reached: it says
// so plainly and keeps the password form for the break-glass admin.
func (s *Server) ssoUnavailable(c echo.Context, err error) error {
	s.log.Warn("identity provider unreachable", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	msg := s.sso.DisplayName + " cannot be reached right now, so single sign-on is not working. Try again in a few minutes; if it lasts, tell " + s.sso.HelpContact + "."
	if !s.cfg.LocalPasswords {
		msg += " The emergency admin account can still sign in with its password below."
	}
	return s.render(c, http.StatusServiceUnavailable, "login", Page{Title: "Sign in", Narrow: true, Data: s.loginPageData(map[string]any{"Error": msg})})
}

// ssoLogoutURL is where to send the browser after signing out: the
// provider's end-session endpoint when this session came from it.
func (s *Server) ssoLogoutURL(idToken string) string {
	if s.sso == nil || idToken == "" {
		return ""
	}
	return s.sso.LogoutURL(idToken, s.cfg.PublicURL+"/login?signed_out=1")
}

// signedInWithSSO reports whether this session came from the identity
// provider, which enforces its own multi-factor sign-in (so the admin
// two-step requirement applies to password sessions only).
func (s *Server) signedInWithSSO(c echo.Context) bool {
	return s.sso != nil && s.sessions.GetString(c.Request().Context(), ssoIDTokenKey) != ""
}
