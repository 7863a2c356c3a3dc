package web

import (
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
)

// maxCertificateUpload bounds a PDF uploaded to /verify.
const maxCertificateUpload = 32 << 20

// verifyLabels are the /verify upload page's words, English and Spanish.
var verifyLabels = map[string]map[string]string{
	"en": {
		"title": "Check a consent certificate", "intro": "Upload the certificate PDF, or enter its SHA-256, to check its seal, its digests and the consent's current status.",
		"file": "Certificate PDF", "sha": "Or the PDF's SHA-256", "sha_hint": "64 letters and digits, e.g. from “sha256sum file.pdf”.",
		"check": "Check", "ok": "This certificate is genuine and unchanged", "bad": "This certificate could not be verified",
		"seal": "Sealed by", "stamp": "Timestamp", "record": "Record", "story": "Story", "digest": "Content digest",
		"scope": "Consented to", "channels": "Channels", "media": "Media", "nameusage": "Name usage", "until": "Until",
		"status": "Current status", "problems": "What failed", "other": "Español", "other_lang": "es", "none": "none",
		"valid": "valid", "revoked": "revoked by the signer", "expired": "expired", "superseded": "superseded (the story changed after signing)",
	},
	"es": {
		"title": "Verificar un certificado de consentimiento", "intro": "Suba el PDF del certificado, o escriba su SHA-256, para verificar su sello, sus huellas y el estado actual del consentimiento.",
		"file": "PDF del certificado", "sha": "O el SHA-256 del PDF", "sha_hint": "64 letras y números, por ejemplo de «sha256sum archivo.pdf».",
		"check": "Verificar", "ok": "Este certificado es auténtico y no ha cambiado", "bad": "No se pudo verificar este certificado",
		"seal": "Sellado por", "stamp": "Sello de tiempo", "record": "Registro", "story": "Historia", "digest": "Huella del contenido",
		"scope": "Consintió en", "channels": "Canales", "media": "Medios", "nameusage": "Uso del nombre", "until": "Hasta",
		"status": "Estado actual", "problems": "Qué falló", "other": "English", "other_lang": "en", "none": "ninguno",
		"valid": "válido", "revoked": "revocado por quien firmó", "expired": "vencido", "superseded": "reemplazado (la historia cambió después de firmar)",
	},
}

func verifyLang(c echo.Context) string {
	if l := c.QueryParam("lang"); l == "es" || l == "en" {
		return l
	}
	if l := c.FormValue("lang"); l == "es" || l == "en" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(c.Request().Header.Get("Accept-Language")), "es") {
		return "es"
	}
	return "en"
}

type verifyUploadView struct {
	patientData
	L       map[string]string
	Lang    string
	Checked bool
	Check   *consent.CertificateCheck
	Status  string
}

// verifyUploadForm shows the /verify form: upload the PDF or enter its SHA-256.
func (s *Server) verifyUploadForm(c echo.Context) error {
	lang := verifyLang(c)
	return s.render(c, http.StatusOK, "consent_patient_verify_upload", Page{Title: verifyLabels[lang]["title"], Lang: lang,
		Data: verifyUploadView{patientData: s.verifyBase(c, lang), L: verifyLabels[lang], Lang: lang}})
}

// verifyUpload checks an uploaded certificate PDF (or the one whose SHA-256
// is given): seal, timestamp, digests recomputed from the attached files,
// the signed scope against the record, and the current status. It shows no
// patient details.
func (s *Server) verifyUpload(c echo.Context) error {
	ctx := c.Request().Context()
	var check *consent.CertificateCheck
	var err error
	if fh, ferr := c.FormFile("pdf"); ferr == nil && fh.Size > 0 {
		f, oerr := fh.Open()
		if oerr != nil {
			return oerr
		}
		b, rerr := io.ReadAll(io.LimitReader(f, maxCertificateUpload))
		f.Close()
		if rerr != nil {
			return rerr
		}
		check, err = s.consent.CheckCertificate(ctx, b)
	} else {
		check, err = s.consent.CheckCertificateSHA256(ctx, c.FormValue("sha256"))
	}
	if err != nil {
		return err
	}
	lang := verifyLang(c)
	if check.Scope != nil && (check.Scope.Language == "es" || check.Scope.Language == "en") && c.FormValue("lang") == "" {
		lang = check.Scope.Language
	}
	v := verifyUploadView{patientData: s.verifyBase(c, lang), L: verifyLabels[lang], Lang: lang, Checked: true, Check: check}
	if check.Record != nil {
		if st, ok := v.L[check.Record.Status]; ok {
			v.Status = st
		} else {
			v.Status = consent.RecordStatusText(check.Record.Status)
		}
	}
	status := http.StatusOK
	if !check.OK {
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, "consent_patient_verify_upload", Page{Title: v.L["title"], Lang: lang, Data: v})
}

// verifyBase is the patient layout's data; the page has its own language link.
func (s *Server) verifyBase(c echo.Context, lang string) patientData {
	d := s.patientBase(c, lang, "")
	d.SwitchURL = ""
	return d
}
