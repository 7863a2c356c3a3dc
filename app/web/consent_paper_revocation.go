package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
)

// consentPaperRevocation records a written revocation.
func (s *Server) consentPaperRevocation(c echo.Context) error {
	v, err := s.loadPaperView(c)
	if err != nil {
		return err
	}
	letter, err := formScan(c, "scan")
	if err != nil {
		return err
	}
	in := consent.WrittenRevocation{ReceivedOn: c.FormValue("received_on"), Letter: letter}
	err = s.consent.RevokeWritten(c.Request().Context(), v.Story.ID, c.FormValue("record"), in)
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		return s.paperInvalid(c, v, renameField(fe, "scan", "revocation-scan"), map[string]string{"record": c.FormValue("record"), "received_on": in.ReceivedOn})
	}
	if err != nil {
		return err
	}
	s.flash(c, "The written revocation was recorded. The story is withdrawn and its posts are being taken down.")
	return s.redirect(c, "/stories/"+v.Story.ID+"/consent")
}
