package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/models"
)

// patientCertificateLabels are the completion page's download words.
var patientCertificateLabels = map[string]map[string]string{
	"en": {"download": "Download your signed form (PDF)", "hint": "Keep it: it is your copy of what you agreed to. The link to cancel is in the email we send you, not in the PDF."},
	"es": {"download": "Descargar su formulario firmado (PDF)", "hint": "Guárdelo: es su copia de lo que aceptó. El enlace para cancelar está en el correo que le enviamos, no en el PDF."},
}

// patientSignedPage is the completion page: thanks, and the signed form as
// a PDF to download right away (164.508(c)(4)), also for patients without
// an email address.
func (s *Server) patientSignedPage(c echo.Context, lang string) error {
	d := s.patientBase(c, lang, c.Param("token"))
	d.SwitchURL = ""
	return s.render(c, http.StatusOK, "consent_patient_signed", Page{Title: d.T["signed_title"], Lang: lang,
		Data: struct {
			patientData
			Body, Download, Hint, URL string
		}{d, d.T["signed_body"], patientCertificateLabels[lang]["download"], patientCertificateLabels[lang]["hint"],
			"/c/" + c.Param("token") + "/certificate"}})
}

// patientCertificate gives the signer (the browser that signed through this
// link) the certificate PDF, making it first if the job has not yet.
func (s *Server) patientCertificate(c echo.Context) error {
	r, ok, err := s.patientRequest(c)
	if !ok {
		return err
	}
	if r.Status != models.RequestSigned || s.sessions.GetInt64(c.Request().Context(), verifiedKey(r.ID)) <= 0 {
		return s.linkGone(c)
	}
	pdf, recID, err := s.consent.PatientCertificate(c.Request().Context(), r, c.RealIP())
	if err != nil {
		return s.certificatePreparing(c, r, err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="authorization-`+recID+`.pdf"`)
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}
