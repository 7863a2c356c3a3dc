package web

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) passwordForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "account_password", Page{Title: "Change password", Narrow: true})
}

func (s *Server) passwordSubmit(c echo.Context) error {
	u := currentUser(c)
	err := s.users.ChangePassword(c.Request().Context(), u, c.FormValue("current"), c.FormValue("new"))
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.render(c, http.StatusUnprocessableEntity, "account_password", Page{Title: "Change password", Narrow: true, Errors: fe})
	}
	if err != nil {
		return err
	}
	// The user's other sessions have ended (F12); this one goes on under a
	// fresh token.
	if err := s.sessions.RenewToken(c.Request().Context()); err != nil {
		return err
	}
	s.flash(c, "Your password has been changed.")
	return s.redirect(c, "/")
}

func (s *Server) totpPage(c echo.Context, status int, secret, qr string, errs map[string]string) error {
	u := currentUser(c)
	required := s.cfg.RequireAdmin2FA && u.Role == models.RoleAdmin
	return s.render(c, status, "account_2fa", Page{Title: "Two-step sign-in", Narrow: true, Errors: errs, Data: map[string]any{
		// qr is a data: URL we generated; html/template would replace an
		// untyped one with #ZgotmplZ and the QR code would not show.
		"Secret": secret, "QR": template.URL(qr), "Required": required, "CanDisable": !required,
	}})
}

func (s *Server) totpForm(c echo.Context) error {
	u := currentUser(c)
	if u.TOTPEnabled {
		return s.totpPage(c, http.StatusOK, "", "", nil)
	}
	secret, qr, err := s.users.BeginTOTP(c.Request().Context(), u)
	if err != nil {
		return err
	}
	return s.totpPage(c, http.StatusOK, secret, qr, nil)
}

func (s *Server) totpEnable(c echo.Context) error {
	u := currentUser(c)
	secret := c.FormValue("secret")
	// Enrolling asks for the password again (F13).
	err := s.users.ConfirmPassword(c.Request().Context(), u, c.FormValue("password"))
	if err == nil {
		err = s.users.EnableTOTP(c.Request().Context(), u, secret, c.FormValue("code"))
	}
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		qr, qerr := qrFor(u.Email, secret)
		if qerr != nil {
			return qerr
		}
		return s.totpPage(c, http.StatusUnprocessableEntity, secret, qr, fe)
	}
	if err != nil {
		return err
	}
	// Other sessions have ended (F12); this one goes on under a new token.
	if err := s.sessions.RenewToken(c.Request().Context()); err != nil {
		return err
	}
	s.flash(c, "Two-step sign-in is on. You will be asked for a code each time you sign in.")
	return s.redirect(c, "/account/2fa")
}

func (s *Server) totpDisable(c echo.Context) error {
	u := currentUser(c)
	if s.cfg.RequireAdmin2FA && u.Role == models.RoleAdmin {
		return echo.NewHTTPError(http.StatusForbidden, "Admins must keep two-step sign-in on.")
	}
	// Turning it off asks for the password again (F13).
	err := s.users.ConfirmPassword(c.Request().Context(), u, c.FormValue("password"))
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.totpPage(c, http.StatusUnprocessableEntity, "", "", fe)
	}
	if err != nil {
		return err
	}
	if err := s.users.DisableTOTP(c.Request().Context(), u.ID); err != nil {
		return err
	}
	if err := s.sessions.RenewToken(c.Request().Context()); err != nil {
		return err
	}
	s.flash(c, "Two-step sign-in is off.")
	return s.redirect(c, "/account/2fa")
}

func qrFor(email, secret string) (string, error) {
	return auth.TOTPQR("Storykeep", email, secret)
}
