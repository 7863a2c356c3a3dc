package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) adminUsers(c echo.Context) error {
	list, err := s.users.List(c.Request().Context())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	return s.render(c, http.StatusOK, "admin_users", Page{Title: "Users", Data: map[string]any{
		"Users": list, "Roles": models.Roles,
		"NewPassword": s.sessions.PopString(ctx, "new_password"),
		"NewEmail":    s.sessions.PopString(ctx, "new_email"),
	}})
}

func (s *Server) adminUserNew(c echo.Context) error {
	return s.render(c, http.StatusOK, "admin_user_new", Page{Title: "Invite a user", Narrow: true, Form: map[string]string{}, Data: map[string]any{"Roles": models.Roles}})
}

func (s *Server) adminUserCreate(c echo.Context) error {
	form := map[string]string{"name": c.FormValue("name"), "email": c.FormValue("email"), "role": c.FormValue("role")}
	pw := auth.RandomPassword()
	u, err := s.users.Create(c.Request().Context(), users.NewUser{Email: form["email"], Name: form["name"], Role: form["role"], Password: pw, MustChangePassword: true})
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.render(c, http.StatusUnprocessableEntity, "admin_user_new", Page{Title: "Invite a user", Narrow: true, Form: form, Errors: fe, Data: map[string]any{"Roles": models.Roles}})
	}
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s.sessions.Put(ctx, "new_password", pw)
	s.sessions.Put(ctx, "new_email", u.Email)
	s.flash(c, u.Name+" can now sign in as "+roleLabels[u.Role]+".")
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
