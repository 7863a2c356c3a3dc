package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/models"
)

// MaxRepDocumentBytes bounds the document a representative may attach to
// show their authority (a guardianship order, a power of attorney). The
// whole sign form must stay under the web layer's 2 MB form limit, with the
// drawn signature (MaxSignatureBytes) beside it.
const MaxRepDocumentBytes = 1536 << 10

// repDocumentTypes are the document formats accepted, by sniffed type.
var repDocumentTypes = map[string]string{"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}

// checkSignerInput adds the representative's and the minor's checks to fe:
// a representative attests their authority and types their own name (it
// must be the name staff gave); an attached document must be a PDF, JPEG
// or PNG within MaxRepDocumentBytes; assent, when given, needs the minor's
// typed name and is only taken from a minor old enough. It returns nil when
// nothing is wrong.
func (s *Service) checkSignerInput(in *SignInput, r *models.ConsentRequest, pd *patients.Details, lang string, fe FieldErrors) FieldErrors {
	if fe == nil {
		fe = FieldErrors{}
	}
	t := texts(lang)
	if r.SignerKind == "representative" {
		name, _, _ := repOf(r, &pd.Patient)
		if !in.RepAttested {
			fe["rep_attest"] = t["err_rep_attest"]
		}
		if _, bad := fe["typed_name"]; !bad && !sameName(in.TypedName, name) {
			fe["typed_name"] = fmt.Sprintf(t["err_rep_name"], name)
		}
		if len(in.RepDocument) > 0 {
			if _, ok := repDocumentTypes[http.DetectContentType(in.RepDocument)]; !ok || len(in.RepDocument) > MaxRepDocumentBytes {
				fe["rep_document"] = t["err_rep_document"]
			}
		}
	} else {
		in.RepAttested, in.RepDocument = false, nil
	}
	age, ok := AgeOn(pd.DOB, s.now())
	if !ok || age >= s.AgeOfMajority() || age < s.AssentAge() || r.SignerKind != "representative" {
		in.AssentGiven, in.AssentName = false, ""
	}
	in.AssentName = strings.TrimSpace(in.AssentName)
	switch {
	case in.AssentGiven && (in.AssentName == "" || utf8.RuneCountInString(in.AssentName) > 200):
		fe["assent_name"] = t["err_assent_name"]
	case !in.AssentGiven && in.AssentName != "":
		fe["assent"] = t["err_assent"]
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// signerEvidence copies onto rec who signed and on what footing: the
// representative and the statement they attested (in the language signed),
// the minor's assent, the sponsorship, and whether the patient is a minor
// with the day they come of age.
func (s *Service) signerEvidence(rec *models.ConsentRecord, r *models.ConsentRequest, in SignInput, pd *patients.Details, lang string, now time.Time) {
	rec.RepName, rec.RepRelationship, rec.RepAuthority = repOf(r, &pd.Patient)
	if r.SignerKind == "representative" {
		rec.RepStatement = RepAttestation(lang, rec.RepName, rec.RepRelationship, rec.RepAuthority, firstName(&pd.Patient))
	}
	if in.AssentGiven {
		rec.AssentName = in.AssentName
	}
	rec.Sponsored, rec.Sponsor = r.Sponsored, r.Sponsor
	if age, ok := AgeOn(pd.DOB, now); ok && age < s.AgeOfMajority() {
		if m, ok := majorityOn(pd.DOB, s.AgeOfMajority()); ok {
			rec.Minor, rec.MajorityOn = true, &m
		}
	}
	if len(in.RepDocument) > 0 && r.SignerKind == "representative" {
		sum := sha256.Sum256(in.RepDocument)
		rec.RepDocumentSHA256 = hex.EncodeToString(sum[:])
	}
}

// storeRepDocument stores the representative's document beside the
// signature (its hash is already on the record and in the signed scope).
func (s *Service) storeRepDocument(ctx context.Context, rec *models.ConsentRecord, in SignInput) error {
	if rec.RepDocumentSHA256 == "" {
		return nil
	}
	ct := http.DetectContentType(in.RepDocument)
	rec.RepDocumentKey = "consents/" + rec.ID + "/authority." + repDocumentTypes[ct]
	_, err := s.store.Put(ctx, rec.RepDocumentKey, bytes.NewReader(in.RepDocument), int64(len(in.RepDocument)), ct)
	return err
}

// signerTexts are the patient-page words for representatives, minors and
// language access, merged into patientTexts (kept apart so each feature's
// words are reviewed together).
var signerTexts = map[string]map[string]string{
	"en": {
		"rep_signing_for":    "You are signing for %s as their %s.",
		"rep_verify_intro":   "You are acting for %s as their %s. To check this link reached you, give %s's date of birth.",
		"dob_legend_patient": "The patient's date of birth (%s)",
		"rep_attest_h":       "Your authority to sign",
		"rep_attest_label":   "I confirm this statement is true",
		"rep_doc_label":      "A document showing your authority (optional)",
		"rep_doc_hint":       "For example a guardianship order or power of attorney: a PDF, JPEG or PNG file of up to 1.5 MB.",
		"rep_name_label":     "Your own full legal name (the representative)",
		"err_rep_attest":     "Tick the box to confirm you have the authority to sign for the patient.",
		"err_rep_name":       "Type your own full name as the team has it: %s. If it is different, ask the team to correct it.",
		"err_rep_document":   "The document must be a PDF, JPEG or PNG file of at most 1.5 MB.",
		"assent_h":           "The young person's agreement (optional)",
		"assent_text":        "%s may add their own agreement. It does not replace your signature, but it is recorded with it.",
		"assent_label":       "I, the young person this story is about, agree that my story is shared as described",
		"assent_name_label":  "The young person's name",
		"err_assent_name":    "Type the young person's name, or untick the agreement box.",
		"err_assent":         "Tick the agreement box as well, or leave the young person's name empty.",
		"only_in":            "This authorization exists only in Spanish. The pages are in English, but the form you read and sign is the Spanish one. Ask the team if you need help to understand it.",
		"form_lang_note":     "The authorization below is in English.",
	},
	"es": {
		"rep_signing_for":    "Usted firma por %s como su %s.",
		"rep_verify_intro":   "Usted actúa por %s como su %s. Para comprobar que este enlace le llegó a usted, escriba la fecha de nacimiento de %s.",
		"dob_legend_patient": "Fecha de nacimiento del paciente (%s)",
		"rep_attest_h":       "Su autoridad para firmar",
		"rep_attest_label":   "Confirmo que esta declaración es verdadera",
		"rep_doc_label":      "Un documento que muestre su autoridad (opcional)",
		"rep_doc_hint":       "Por ejemplo, una orden de tutela o un poder notarial: un archivo PDF, JPEG o PNG de hasta 1,5 MB.",
		"rep_name_label":     "Su propio nombre legal completo (el representante)",
		"err_rep_attest":     "Marque la casilla para confirmar que tiene autoridad para firmar por el paciente.",
		"err_rep_name":       "Escriba su propio nombre completo tal como lo tiene el equipo: %s. Si no es correcto, pida al equipo que lo corrija.",
		"err_rep_document":   "El documento debe ser un archivo PDF, JPEG o PNG de 1,5 MB como máximo.",
		"assent_h":           "El acuerdo del menor (opcional)",
		"assent_text":        "%s puede añadir su propio acuerdo. No sustituye su firma, pero queda registrado con ella.",
		"assent_label":       "Yo, la persona joven de esta historia, estoy de acuerdo en que se comparta como se describe",
		"assent_name_label":  "Nombre de la persona joven",
		"err_assent_name":    "Escriba el nombre de la persona joven, o desmarque la casilla del acuerdo.",
		"err_assent":         "Marque también la casilla del acuerdo, o deje vacío el nombre de la persona joven.",
		"only_in":            "Esta autorización solo existe en inglés. Las páginas están en español, pero el formulario que usted lee y firma es el de inglés. Pida ayuda al equipo si la necesita para entenderlo.",
		"form_lang_note":     "La autorización de abajo está en español.",
	},
}

func init() {
	for lang, m := range signerTexts {
		for k, v := range m {
			patientTexts[lang][k] = v
		}
	}
}

// signerExtras prints what a representative attested, the hash of their
// document and a minor's assent on the certificate.
func signerExtras(p *certPDF, r *Representative) {
	if r.Statement != "" {
		p.field(p.t("rep_statement"), r.Statement)
	}
	if r.DocumentSHA256 != "" {
		p.field(p.t("rep_document"), r.DocumentSHA256)
	}
	if r.Assent != "" {
		p.field(p.t("assent"), r.Assent)
	}
}

func init() {
	for lang, m := range map[string]map[string]string{
		"en": {"rep_statement": "Attestation of authority", "rep_document": "Document of authority (SHA-256)",
			"assent": "Assent of the minor", "sponsor": "Paid for by (marketing)"},
		"es": {"rep_statement": "Declaración de autoridad", "rep_document": "Documento de autoridad (SHA-256)",
			"assent": "Acuerdo del menor", "sponsor": "Pagado por (mercadeo)"},
	} {
		for k, v := range m {
			certLabels[lang][k] = v
		}
	}
}
