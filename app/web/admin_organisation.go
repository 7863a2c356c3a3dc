package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/organisation"
)

func (s *Server) organisationForm(c echo.Context) error {
	p, err := s.consent.OrganisationProfile(c.Request().Context())
	if err != nil {
		return err
	}
	form := p.FormValues()
	if form["time_zone"] == "" {
		form["time_zone"] = "UTC"
	}
	return s.render(c, http.StatusOK, "admin_organisation", Page{Title: "Organisation", Narrow: true, Form: form,
		Data: map[string]any{"Missing": p.Missing()}})
}

func (s *Server) organisationSave(c echo.Context) error {
	p := organisation.FromForm(c.FormValue)
	err := s.consent.Organisation.Save(c.Request().Context(), currentUser(c).ID, p)
	if fe, ok := organisation.IsFieldErrors(err); ok {
		return s.render(c, http.StatusUnprocessableEntity, "admin_organisation", Page{Title: "Organisation", Narrow: true, Form: p.FormValues(), Errors: fe,
			Data: map[string]any{"Missing": []string(nil)}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "The organisation's details are saved. New consent forms, emails and certificates print them.")
	return s.redirect(c, "/admin/organisation")
}
