package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// verifyCertificate lets anyone holding a certificate check it is genuine:
// given its number (the URL) and the digest printed on it, it confirms the
// issue date, that the digest matches and the current status, and never
// shows who signed.
func (s *Server) verifyCertificate(c echo.Context) error {
	d := s.patientBase(c, "en", "")
	d.SwitchURL = ""
	v := struct {
		patientData
		ID, Digest string
		Checked    bool
		Found      bool
		Matches    bool
		Record     *models.ConsentRecord
		Status     string
	}{patientData: d, ID: c.Param("id"), Digest: strings.ToLower(strings.TrimSpace(c.QueryParam("digest")))}
	rec, err := s.consent.Record(c.Request().Context(), v.ID)
	if err != nil && !isNotFound(err) {
		return err
	}
	status := http.StatusOK
	if rec == nil {
		status = http.StatusNotFound
	} else {
		v.Found, v.Record, v.Status = true, rec, consent.RecordStatusText(rec.Status)
	}
	if v.Digest != "" {
		v.Checked = true
		v.Matches = rec != nil && subtle.ConstantTimeCompare([]byte(v.Digest), []byte(rec.Digest)) == 1
	}
	return s.render(c, status, "consent_patient_certificate", Page{Title: "Check a consent certificate", Lang: "en", Data: v})
}
