package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// inviteRoutes: emailed invitations and password resets (issue 25). The
// link's token is in the path; the access log records the route pattern only.
func (s *Server) inviteRoutes() []Route {
	return []Route{
		{post, "/admin/users/:id/invite", authz.UsersManage, s.adminUserReinvite},
		{get, "/invite/:token", authz.Public, s.inviteForm},
		{post, "/invite/:token", authz.Public, s.inviteSubmit},
		{get, "/password/forgot", authz.Public, s.forgotForm},
		{post, "/password/forgot", authz.Public, s.forgotSubmit},
		{get, "/password/reset/:token", authz.Public, s.resetForm},
		{post, "/password/reset/:token", authz.Public, s.resetSubmit},
	}
}

func (s *Server) inviteTTL() time.Duration { return time.Duration(s.cfg.InviteLinkHours) * time.Hour }
func (s *Server) resetTTL() time.Duration  { return time.Duration(s.cfg.ResetLinkMinutes) * time.Minute }

// sendInvitation emails the invitation link to u.
func (s *Server) sendInvitation(ctx context.Context, u *models.User, token string) error {
	how := "choose your password"
	if s.sso != nil && !s.users.PasswordsAllowed(u.Email) {
		how = "sign in with " + s.sso.DisplayName
	}
	text := fmt.Sprintf("Hello %s,\n\nYou have been invited to Storykeep, %s's patient stories workspace, as %s.\n\nOpen this link to %s:\n%s/invite/%s\n\nThe link works once and for %d hours. If you did not expect this email, you can ignore it.\n",
		u.Name, s.cfg.OrganisationName, roleLabels[u.Role], how, s.cfg.PublicURL, token, s.cfg.InviteLinkHours)
	return s.mail.Send(ctx, mail.Message{To: u.Email, Subject: "Storykeep: your invitation", Text: text})
}

func (s *Server) adminUserReinvite(c echo.Context) error {
	ctx := c.Request().Context()
	u, token, err := s.users.Reinvite(ctx, c.Param("id"), s.inviteTTL())
	if err != nil {
		return err
	}
	if err := s.sendInvitation(ctx, u, token); err != nil {
		return apperr.Wrap(http.StatusBadGateway, "The invitation email could not be sent. Check the mail settings and try again.", err)
	}
	s.flash(c, "A new invitation was emailed to "+u.Email+"; earlier links no longer work.")
	return s.redirect(c, "/admin/users")
}

func (s *Server) inviteData(c echo.Context, u *models.User) map[string]any {
	d := map[string]any{"Token": c.Param("token"), "Name": u.Name, "Email": u.Email}
	if s.sso != nil {
		d["SSO"] = s.sso.DisplayName
		d["PasswordAllowed"] = s.users.PasswordsAllowed(u.Email)
	} else {
		d["PasswordAllowed"] = true
	}
	return d
}

func (s *Server) staffLinkGone(c echo.Context, err error) error {
	if errors.Is(err, users.ErrLinkInvalid) {
		return s.render(c, http.StatusGone, "link_invalid", Page{Title: "Link no longer works", Narrow: true, Data: map[string]any{"Message": users.ErrLinkInvalid.Msg}})
	}
	return err
}

func (s *Server) inviteForm(c echo.Context) error {
	u, err := s.users.LinkUser(c.Request().Context(), models.LinkInvite, c.Param("token"))
	if err != nil {
		return s.staffLinkGone(c, err)
	}
	return s.render(c, http.StatusOK, "invite", Page{Title: "Welcome to Storykeep", Narrow: true, Form: map[string]string{}, Data: s.inviteData(c, u)})
}

func (s *Server) inviteSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	u, err := s.users.LinkUser(ctx, models.LinkInvite, token)
	if err != nil {
		return s.staffLinkGone(c, err)
	}
	if !s.users.PasswordsAllowed(u.Email) {
		return apperr.New(http.StatusForbidden, "Staff sign in with their organisation account here; there is no Storykeep password to set.")
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("confirm") {
		return s.render(c, http.StatusUnprocessableEntity, "invite", Page{Title: "Welcome to Storykeep", Narrow: true, Errors: map[string]string{"confirm": "The two passwords are not the same."}, Data: s.inviteData(c, u)})
	}
	signedIn, err := s.users.UseLink(ctx, models.LinkInvite, token, pw)
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.render(c, http.StatusUnprocessableEntity, "invite", Page{Title: "Welcome to Storykeep", Narrow: true, Errors: fe, Data: s.inviteData(c, u)})
	}
	if err != nil {
		return s.staffLinkGone(c, err)
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.flash(c, "Your password is set and you are signed in. You can turn on two-step sign-in now, or later from Account.")
	return s.completeLogin(c, signedIn, "/account/2fa")
}

func (s *Server) forgotForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "password_forgot", Page{Title: "Reset your password", Narrow: true, Data: map[string]any{}})
}

// forgotSubmit answers the same whether or not the address has an account,
// so the form cannot be used to find out who works here.
func (s *Server) forgotSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	u, token, err := s.users.StartReset(ctx, c.FormValue("email"), c.RealIP(), s.resetTTL())
	if err != nil {
		return err
	}
	if u != nil {
		text := fmt.Sprintf("Hello %s,\n\nSomeone (probably you) asked to reset your Storykeep password.\n\nOpen this link to choose a new one:\n%s/password/reset/%s\n\nThe link works once and for %d minutes. If you did not ask, ignore this email; your password stays as it is.\n",
			u.Name, s.cfg.PublicURL, token, s.cfg.ResetLinkMinutes)
		// Sent after answering, so the answer takes as long whether or not
		// the address has an account.
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		go func(m mail.Message) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := s.mail.Send(ctx, m); err != nil {
				s.log.Error("password reset email failed", "err", err, "request_id", rid)
			}
		}(mail.Message{To: u.Email, Subject: "Storykeep: reset your password", Text: text})
	}
	return s.render(c, http.StatusOK, "password_forgot", Page{Title: "Reset your password", Narrow: true, Data: map[string]any{"Sent": true}})
}

func (s *Server) resetForm(c echo.Context) error {
	if _, err := s.users.LinkUser(c.Request().Context(), models.LinkReset, c.Param("token")); err != nil {
		return s.staffLinkGone(c, err)
	}
	return s.render(c, http.StatusOK, "password_reset", Page{Title: "Choose a new password", Narrow: true, Data: map[string]any{"Token": c.Param("token")}})
}

func (s *Server) resetSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	if _, err := s.users.LinkUser(ctx, models.LinkReset, token); err != nil {
		return s.staffLinkGone(c, err)
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("confirm") {
		return s.render(c, http.StatusUnprocessableEntity, "password_reset", Page{Title: "Choose a new password", Narrow: true, Errors: map[string]string{"confirm": "The two passwords are not the same."}, Data: map[string]any{"Token": token}})
	}
	_, err := s.users.UseLink(ctx, models.LinkReset, token, pw)
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.render(c, http.StatusUnprocessableEntity, "password_reset", Page{Title: "Choose a new password", Narrow: true, Errors: fe, Data: map[string]any{"Token": token}})
	}
	if err != nil {
		return s.staffLinkGone(c, err)
	}
	s.flash(c, "Your password is changed. Sign in with it now.")
	return s.redirect(c, "/login")
}
