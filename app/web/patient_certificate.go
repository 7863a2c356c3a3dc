package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// patientCertificateLabels are the completion page's download and
// revocation-link words.
var patientCertificateLabels = map[string]map[string]string{
	"en": {"download": "Download your signed form (PDF)", "hint": "Keep it: it is your copy of what you agreed to. The link to cancel is not in the PDF.",
		"revoke_h": "If you change your mind", "revoke_body": "You can cancel your permission at any time with this personal link. Keep it private: it is only for you. We also email it to you with your signed form.",
		"revoke_link": "Cancel my permission"},
	"es": {"download": "Descargar su formulario firmado (PDF)", "hint": "Guárdelo: es su copia de lo que aceptó. El enlace para cancelar no está en el PDF.",
		"revoke_h": "Si cambia de opinión", "revoke_body": "Puede cancelar su permiso en cualquier momento con este enlace personal. No lo comparta: es solo para usted. También se lo enviamos por correo electrónico con su formulario firmado.",
		"revoke_link": "Cancelar mi permiso"},
}

// patientSignedPage is the completion page: thanks, the signed form as a
// PDF to download right away (164.508(c)(4)), also for patients without an
// email address, and the patient's own revocation link. The link is issued
// for this page (only its hash is kept) and the page is not cached.
func (s *Server) patientSignedPage(c echo.Context, lang string, rec *models.ConsentRecord) error {
	d := s.patientBase(c, lang, c.Param("token"))
	d.SwitchURL = ""
	l := patientCertificateLabels[lang]
	if l == nil {
		l = patientCertificateLabels["en"]
	}
	revokeURL := ""
	if rec != nil {
		tok, err := s.consent.IssueRevokeLink(c.Request().Context(), nil, rec, consent.RevokeLinkCompletionPage)
		if err != nil {
			return err
		}
		revokeURL = s.consent.RevokeURL(tok)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "consent_patient_signed", Page{Title: d.T["signed_title"], Lang: lang,
		Data: struct {
			patientData
			Body, Download, Hint, URL          string
			RevokeH, RevokeBody, RevokeLinkTxt string
			RevokeURL                          string
		}{d, d.T["signed_body"], l["download"], l["hint"], "/c/" + c.Param("token") + "/certificate",
			l["revoke_h"], l["revoke_body"], l["revoke_link"], revokeURL}})
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
