package web

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) templateList(c echo.Context) error {
	ctx := c.Request().Context()
	byLang := map[string][]models.ConsentTemplate{}
	langs := slices.Sorted(maps.Keys(consent.Languages))
	for _, lang := range langs {
		ts, err := s.templates.List(ctx, lang)
		if err != nil {
			return err
		}
		byLang[lang] = ts
	}
	return s.render(c, http.StatusOK, "admin_templates", Page{Title: "Consent forms", Data: map[string]any{
		"Languages": langs, "Names": consent.Languages, "ByLang": byLang,
	}})
}

func (s *Server) templatePage(c echo.Context, status int, t *models.ConsentTemplate, form map[string]string, errs map[string]string, missing []consent.Missing) error {
	if missing == nil {
		missing = consent.Readiness(t)
	}
	if form == nil {
		form = map[string]string{"name": t.Name, "body": t.Body}
	}
	return s.render(c, status, "admin_template_edit", Page{Title: "Consent form " + t.Language + " v", Form: form, Errors: errs, Data: map[string]any{
		"T": t, "Draft": t.Status == models.TemplateDraft, "Missing": missing,
	}})
}

func (s *Server) templateEdit(c echo.Context) error {
	t, err := s.templates.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.templatePage(c, http.StatusOK, t, nil, nil, nil)
}

func (s *Server) templateSave(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.templates.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	form := map[string]string{"name": c.FormValue("name"), "body": c.FormValue("body")}
	_, err = s.templates.UpdateDraft(ctx, t.ID, consent.TemplateInput{Name: form["name"], Language: t.Language, Body: form["body"]})
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		return s.templatePage(c, http.StatusUnprocessableEntity, t, form, fe, nil)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Draft saved.")
	return s.redirect(c, "/admin/consent-templates/"+t.ID)
}

func (s *Server) templateNewVersion(c echo.Context) error {
	t, err := s.templates.NewVersion(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	s.flash(c, "A new draft version was made from the one you chose. Edit it, then activate it.")
	return s.redirect(c, "/admin/consent-templates/"+t.ID)
}

func (s *Server) templateActivate(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.templates.Activate(ctx, c.Param("id"))
	var nr *consent.NotReadyError
	if errors.As(err, &nr) {
		cur, gerr := s.templates.Get(ctx, c.Param("id"))
		if gerr != nil {
			return gerr
		}
		return s.templatePage(c, http.StatusUnprocessableEntity, cur, nil, map[string]string{"activate": "This form cannot be used yet: it lacks what the HIPAA rule requires, listed below."}, nr.Missing)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Version "+strconv.Itoa(t.Version)+" is now the active "+t.Language+" form. New consent requests use it; signed records keep the text they showed.")
	return s.redirect(c, "/admin/consent-templates")
}
