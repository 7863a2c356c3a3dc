package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (s *Server) settingsForm(c echo.Context) error {
	on, err := s.patients.Settings.MRNEnabled(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin_settings", Page{Title: "Settings", Narrow: true, Data: map[string]any{"MRN": on}})
}

func (s *Server) settingsSave(c echo.Context) error {
	on := c.FormValue("mrn_enabled") == "on"
	if err := s.patients.Settings.SetMRNEnabled(c.Request().Context(), currentUser(c).ID, on); err != nil {
		return err
	}
	msg := "Medical record numbers are off: the field is hidden."
	if on {
		msg = "Medical record numbers are on: the patient form shows the field."
	}
	s.flash(c, msg)
	return s.redirect(c, "/admin/settings")
}
