package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
)

// consentPaperEsign records the patient's withdrawal of consent to
// electronic records.
func (s *Server) consentPaperEsign(c echo.Context) error {
	v, err := s.loadPaperView(c)
	if err != nil {
		return err
	}
	letter, err := formScan(c, "scan")
	if err != nil {
		return err
	}
	err = s.consent.WithdrawEsign(c.Request().Context(), v.Story.ID, consent.EsignWithdrawal{ReceivedOn: c.FormValue("esign_received_on"), Letter: letter})
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		fe = renameField(renameField(fe, "received_on", "esign_received_on"), "scan", "esign-scan")
		return s.paperInvalid(c, v, fe, map[string]string{"esign_received_on": c.FormValue("esign_received_on")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "The withdrawal of consent to electronic records was recorded. From now on, send this patient everything on paper.")
	return s.redirect(c, "/stories/"+v.Story.ID+"/consent")
}

// renameField moves an error to the id of the field it belongs to on the
// paper page (three forms share field names), so the summary links to it.
func renameField(fe consent.FieldErrors, from, to string) consent.FieldErrors {
	if m, ok := fe[from]; ok {
		delete(fe, from)
		fe[to] = m
	}
	return fe
}
