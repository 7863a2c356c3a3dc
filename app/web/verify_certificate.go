package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/channels"
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
		Scope      consent.ScopeCheck
		Channels   []string
		Photos     int
		NameUsage  string
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
		// The consented scope, recomputed from the stored values: a chosen
		// value changed in the database does not match its signed digest.
		v.Scope = consent.VerifyScope(rec)
		p := consent.ProposalOf(&models.ConsentRequest{Channels: rec.Channels, MediaIDs: rec.MediaIDs})
		v.Channels, v.Photos, v.NameUsage = channels.Labels(p.Channels), len(p.MediaIDs), consent.NameUsageText("en", rec.NameUsage)
	}
	if v.Digest != "" {
		v.Checked = true
		v.Matches = rec != nil && subtle.ConstantTimeCompare([]byte(v.Digest), []byte(rec.Digest)) == 1 && v.Scope.Matches
	}
	return s.render(c, status, "consent_patient_certificate", Page{Title: "Check a consent certificate", Lang: "en", Data: v})
}
