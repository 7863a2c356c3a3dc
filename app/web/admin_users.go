package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) adminUsers(c echo.Context) error {
	list, err := s.users.List(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin_users", Page{Title: "Users", Data: map[string]any{"Users": list, "Roles": models.Roles}})
}

func (s *Server) adminUserNew(c echo.Context) error {
	return s.render(c, http.StatusOK, "admin_user_new", Page{Title: "Invite a user", Narrow: true, Form: map[string]string{}, Data: map[string]any{"Roles": models.Roles}})
}

func (s *Server) adminUserCreate(c echo.Context) error {
	form := map[string]string{"name": c.FormValue("name"), "email": c.FormValue("email"), "role": c.FormValue("role")}
	// An emailed single-use link (issue 25): no password is ever shown here.
	ctx := c.Request().Context()
	u, token, err := s.users.Invite(ctx, users.NewUser{Email: form["email"], Name: form["name"], Role: form["role"]}, s.inviteTTL())
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.render(c, http.StatusUnprocessableEntity, "admin_user_new", Page{Title: "Invite a user", Narrow: true, Form: form, Errors: fe, Data: map[string]any{"Roles": models.Roles}})
	}
	if err != nil {
		return err
	}
	if err := s.sendInvitation(ctx, u, token); err != nil {
		s.log.Error("invitation email failed", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		s.flash(c, "The account for "+u.Name+" was created, but the invitation email could not be sent. Check the mail settings, then use “Send new invitation”.")
		return s.redirect(c, "/admin/users")
	}
	s.flash(c, "An invitation was emailed to "+u.Email+". "+u.Name+" will join as "+roleLabels[u.Role]+".")
	return s.redirect(c, "/admin/users")
}

func (s *Server) adminUserRole(c echo.Context) error {
	if err := s.users.SetRole(c.Request().Context(), c.Param("id"), c.FormValue("role")); err != nil {
		return err
	}
	s.flash(c, "Role changed to "+roleLabels[c.FormValue("role")]+".")
	return s.redirect(c, "/admin/users")
}

func (s *Server) adminUserDisable(c echo.Context) error {
	if c.Param("id") == currentUser(c).ID {
		return echo.NewHTTPError(http.StatusConflict, "You cannot disable your own account.")
	}
	if err := s.users.SetDisabled(c.Request().Context(), c.Param("id"), true); err != nil {
		return err
	}
	s.flash(c, "The account is disabled and its sessions have ended.")
	return s.redirect(c, "/admin/users")
}

func (s *Server) adminUserEnable(c echo.Context) error {
	if err := s.users.SetDisabled(c.Request().Context(), c.Param("id"), false); err != nil {
		return err
	}
	s.flash(c, "The account is enabled.")
	return s.redirect(c, "/admin/users")
}

func (s *Server) adminUserResetTOTP(c echo.Context) error {
	if err := s.users.DisableTOTP(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "Two-step sign-in was reset; the user can set it up again.")
	return s.redirect(c, "/admin/users")
}
