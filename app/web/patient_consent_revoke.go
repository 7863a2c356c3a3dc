package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// patientRevokeForm asks the patient to confirm revocation. The link in the
// certificate email is the written request 164.508(b)(5) asks for.
func (s *Server) patientRevokeForm(c echo.Context) error {
	rec, err := s.consent.FindByRevokeToken(c.Request().Context(), c.Param("token"))
	if errors.Is(err, consent.ErrLinkNotUsable) {
		return s.linkGone(c)
	}
	if err != nil {
		return err
	}
	lang := s.patientLang(c, rec.Language)
	if rec.Status == models.RecordRevoked {
		return s.patientMessage(c, http.StatusOK, lang, "already_revoked_title", "already_revoked_body")
	}
	d := s.patientBase(c, lang, c.Param("token"))
	return s.render(c, http.StatusOK, "consent_patient_revoke", Page{Title: d.T["revoke_title"], Lang: lang, Data: d})
}

// patientRevoke revokes at once; a second time changes nothing.
func (s *Server) patientRevoke(c echo.Context) error {
	ctx := c.Request().Context()
	rec, err := s.consent.FindByRevokeToken(ctx, c.Param("token"))
	if errors.Is(err, consent.ErrLinkNotUsable) {
		return s.linkGone(c)
	}
	if err != nil {
		return err
	}
	lang := s.patientLang(c, rec.Language)
	err = s.consent.Revoke(ctx, rec, c.FormValue("reason"), c.RealIP())
	if errors.Is(err, consent.ErrAlreadyRevoked) {
		return s.patientMessage(c, http.StatusOK, lang, "already_revoked_title", "already_revoked_body")
	}
	if err != nil {
		return err
	}
	return s.patientMessage(c, http.StatusOK, lang, "revoked_title", "revoked_body")
}
