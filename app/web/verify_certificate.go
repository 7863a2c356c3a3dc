package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
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
	lang := verifyLang(c)
	d := s.patientBase(c, lang, "")
	L := verifyIDLabels[lang]
	d.SwitchURL = c.Request().URL.Path + "?" + url.Values{"lang": {L["other_lang"]}, "digest": {c.QueryParam("digest")}}.Encode()
	v := struct {
		patientData
		L          map[string]string
		Lang       string
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
	}{patientData: d, L: L, Lang: lang, ID: c.Param("id"), Digest: strings.ToLower(strings.TrimSpace(c.QueryParam("digest")))}
	rec, err := s.consent.Record(c.Request().Context(), v.ID)
	if err != nil && !isNotFound(err) {
		return err
	}
	status := http.StatusOK
	if rec == nil {
		status = http.StatusNotFound
	} else {
		v.Found, v.Record, v.Status = true, rec, verifyLabels[lang][rec.Status]
		if v.Status == "" {
			v.Status = consent.RecordStatusText(rec.Status)
		}
		// The consented scope, recomputed from the stored values: a chosen
		// value changed in the database does not match its signed digest.
		v.Scope = consent.VerifyScope(rec)
		p := consent.ProposalOf(&models.ConsentRequest{Channels: rec.Channels, MediaIDs: rec.MediaIDs})
		for _, k := range p.Channels {
			v.Channels = append(v.Channels, channels.LabelIn(lang, k))
		}
		v.Photos, v.NameUsage = len(p.MediaIDs), consent.NameUsageText(lang, rec.NameUsage)
	}
	if v.Digest != "" {
		v.Checked = true
		v.Matches = rec != nil && subtle.ConstantTimeCompare([]byte(v.Digest), []byte(rec.Digest)) == 1 && v.Scope.Matches
	}
	return s.render(c, status, "consent_patient_certificate", Page{Title: L["title"], Lang: lang, Data: v})
}

// verifyIDLabels are the words of /verify/:id (the check by certificate
// number and digest), English and Spanish (issue 19 item 9).
var verifyIDLabels = map[string]map[string]string{
	"en": {
		"title": "Check a consent certificate", "other": "Español", "other_lang": "es",
		"not_found": "No certificate with this number was issued here. Check the number printed at the bottom of the certificate:",
		"genuine":   "This certificate is genuine", "issued": "Issued on", "by": "by", "digest_ok": "The content digest matches:",
		"status": "Status", "since": "since", "mismatch": "The digest does not match",
		"mismatch_typed":  "The digest you entered is not the one recorded for this certificate. Check that you copied it exactly; if it still differs, the certificate may have been altered.",
		"mismatch_record": "The record of this certificate does not match what was signed (see below).",
		"scope_h":         "Consented scope", "scope_ok": "The recorded scope matches the signed-scope digest", "scope_bad": "This record does not match what was signed.",
		"channels": "Channels", "media": "Photos, videos or recordings", "name_usage": "Name usage", "ends": "Ends on",
		"digest_label": "Content digest printed on the certificate", "digest_hint": "64 letters and digits, after “Content digest”.",
		"check": "Check", "number": "Certificate",
	},
	"es": {
		"title": "Verificar un certificado de consentimiento", "other": "English", "other_lang": "en",
		"not_found": "Aquí no se emitió ningún certificado con este número. Revise el número impreso al pie del certificado:",
		"genuine":   "Este certificado es auténtico", "issued": "Emitido el", "by": "por", "digest_ok": "La huella del contenido coincide:",
		"status": "Estado", "since": "desde", "mismatch": "La huella no coincide",
		"mismatch_typed":  "La huella que escribió no es la registrada para este certificado. Compruebe que la copió exactamente; si sigue siendo distinta, puede que el certificado se haya alterado.",
		"mismatch_record": "El registro de este certificado no coincide con lo que se firmó (vea abajo).",
		"scope_h":         "Alcance del consentimiento", "scope_ok": "El alcance registrado coincide con la huella del alcance firmado", "scope_bad": "Este registro no coincide con lo que se firmó.",
		"channels": "Canales", "media": "Fotos, vídeos o grabaciones", "name_usage": "Uso del nombre", "ends": "Termina el",
		"digest_label": "Huella del contenido impresa en el certificado", "digest_hint": "64 letras y números, después de «Huella del contenido».",
		"check": "Verificar", "number": "Certificado",
	},
}
