package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/models"
)

// certificateWaitLabels: the signed form could not be made just now (the
// timestamp authority or storage is down); the job keeps trying and the
// same link works once it can.
var certificateWaitLabels = map[string]map[string]string{
	"en": {"title": "Your signed form is being prepared", "body": "Your authorization is signed and recorded. The PDF copy is not ready yet; it usually takes a few minutes.",
		"again": "Try the download again", "hint": "This link keeps working in this browser. We will also email the copy if we have your address, or staff will hand you a printed one."},
	"es": {"title": "Estamos preparando su formulario firmado", "body": "Su autorización está firmada y registrada. La copia en PDF aún no está lista; suele tardar unos minutos.",
		"again": "Intentar la descarga de nuevo", "hint": "Este enlace sigue funcionando en este navegador. También le enviaremos la copia por correo si tenemos su dirección, o el personal le dará una impresa."},
}

// certificatePreparing answers a completion-page download whose PDF could
// not be made now: a page saying so, with the same (token- and
// session-protected) link to try again, instead of an error. Refusals
// (apperr) keep their answer.
func (s *Server) certificatePreparing(c echo.Context, r *models.ConsentRequest, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	s.log.WarnContext(c.Request().Context(), "patient certificate not ready", "request_id", r.ID, "err", err)
	lang := s.patientLang(c, r.Language)
	l := certificateWaitLabels[lang]
	if l == nil {
		l = certificateWaitLabels["en"]
	}
	d := s.patientBase(c, lang, c.Param("token"))
	d.SwitchURL = ""
	c.Response().Header().Set("Retry-After", "60")
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusServiceUnavailable, "consent_patient_signed", Page{Title: l["title"], Lang: lang,
		Data: struct {
			patientData
			Body, Download, Hint, URL          string
			RevokeH, RevokeBody, RevokeLinkTxt string
			RevokeURL                          string // shown once, on the completion page
		}{patientData: d, Body: l["body"], Download: l["again"], Hint: l["hint"], URL: "/c/" + c.Param("token") + "/certificate"}})
}
