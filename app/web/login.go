package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) loginForm(c echo.Context) error {
	if currentUser(c) != nil {
		return s.redirect(c, "/")
	}
	data := s.loginPageData(map[string]any{"Next": safeNext(c.QueryParam("next"))})
	if c.QueryParam("signed_out") == "1" {
		data["Notice"] = "You have signed out."
	}
	return s.render(c, http.StatusOK, "login", Page{Title: "Sign in", Narrow: true, Data: data})
}

func (s *Server) loginSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	u, err := s.users.Authenticate(ctx, email, c.FormValue("password"), c.RealIP())
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return err
		}
		return s.render(c, e.Status, "login", Page{Title: "Sign in", Narrow: true, Data: s.loginPageData(map[string]any{"Email": email, "Next": next, "Error": e.Msg})})
	}
	// A new session token on every privilege change prevents session fixation.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	if u.TOTPEnabled {
		s.sessions.Put(ctx, "pending_uid", u.ID)
		s.sessions.Put(ctx, "pending_next", next)
		return s.redirect(c, "/login/totp")
	}
	return s.completeLogin(c, u, next)
}

func (s *Server) completeLogin(c echo.Context, u *models.User, next string) error {
	ctx := c.Request().Context()
	s.sessions.Remove(ctx, "pending_uid")
	s.sessions.Remove(ctx, "pending_next")
	s.sessions.Put(ctx, auth.UserKey, u.ID)
	// A new CSRF nonce too: no token from before sign-in works after it (F14).
	s.renewCSRF(c)
	c.SetRequest(c.Request().WithContext(audit.WithActor(ctx, audit.Actor{ID: u.ID, Label: u.Email, IP: c.RealIP(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)})))
	if err := s.users.RecordLogin(c.Request().Context(), u, c.RealIP()); err != nil {
		return err
	}
	if u.MustChangePassword {
		return s.redirect(c, "/account/password")
	}
	return s.redirect(c, safeNext(next))
}

func (s *Server) pendingUser(c echo.Context) (*models.User, error) {
	id := s.sessions.GetString(c.Request().Context(), "pending_uid")
	if id == "" {
		return nil, nil
	}
	u, err := s.users.Get(c.Request().Context(), id)
	if err != nil || !u.Active() {
		return nil, nil
	}
	return u, nil
}

func (s *Server) loginTOTPForm(c echo.Context) error {
	if u, _ := s.pendingUser(c); u == nil {
		return s.redirect(c, "/login")
	}
	return s.render(c, http.StatusOK, "login_totp", Page{Title: "Two-step sign-in", Narrow: true, Data: map[string]any{}})
}

func (s *Server) loginTOTPSubmit(c echo.Context) error {
	u, err := s.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		return s.redirect(c, "/login")
	}
	if err := s.users.CheckTOTP(c.Request().Context(), u, c.FormValue("code")); err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return err
		}
		return s.render(c, e.Status, "login_totp", Page{Title: "Two-step sign-in", Narrow: true, Data: map[string]any{"Error": e.Msg}})
	}
	if err := s.sessions.RenewToken(c.Request().Context()); err != nil {
		return err
	}
	return s.completeLogin(c, u, s.sessions.GetString(c.Request().Context(), "pending_next"))
}

func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if u := currentUser(c); u != nil {
		if err := s.audit.Record(ctx, nil, audit.Entry{Action: "session.logout", ObjectType: "user", ObjectID: u.ID}); err != nil {
			return err
		}
	}
	idToken := s.sessions.GetString(ctx, ssoIDTokenKey)
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	s.renewCSRF(c)
	if to := s.ssoLogoutURL(idToken); to != "" {
		return c.Redirect(http.StatusSeeOther, to) // RP-initiated logout at the provider
	}
	return s.redirect(c, "/login?signed_out=1")
}
