package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/storykeep/storykeep/models"
)

// FormData is everything a form template may print. It is a fixed struct, not
// a map, so a template naming anything else fails to render instead of
// silently showing a blank where a legal element should be.
type FormData struct {
	OrganisationName string
	PatientName      string
	StoryTitle       string
	Channels         List   // channel labels, e.g. "Website", "Facebook"
	MediaList        List   // one line per media item, e.g. its alt text
	NameUsage        string // the phrase for the choice, see NameUsageText
	ExpiresOn        string // a date written for the reader, see FormatDate
	// RevokeURL says where the patient's revocation link is (RevokeHowText):
	// the link itself is a credential and is only ever emailed to them.
	RevokeURL string
	// The organisation's contact routes (Admin → Organisation), so the form
	// tells the patient where to write, call or email, not "call the team".
	OrganisationLegalName string
	OrganisationAddress   string // on one line
	OrganisationPhone     string
	PrivacyEmail          string
	// Representative is empty when the patient signs; otherwise name,
	// relationship and authority, e.g. "Ana López (mother; parent of a minor)".
	Representative string
	// Remuneration says whether anyone is paid for the disclosure
	// (RemunerationText); Sponsored is the request's flag, not printed.
	Remuneration string
	Sponsored    bool
}

// List prints as a Markdown bullet list, so templates write {{.Channels}}
// rather than a range loop and every form lists items the same way.
type List []string

// String renders the list, one "- item" per line; an empty list prints an
// em dash so the reader sees that nothing was chosen rather than a gap.
func (l List) String() string {
	if len(l) == 0 {
		return "- —"
	}
	lines := make([]string, len(l))
	for i, s := range l {
		lines[i] = "- " + strings.ReplaceAll(s, "\n", " ")
	}
	return strings.Join(lines, "\n")
}

// Render fills template t with data, every value quoted (see Quote), and returns the Markdown text shown to
// the patient and its SHA-256 (lowercase hex). The text is normalised (NFC,
// LF) before hashing so the hash a signed record keeps can be recomputed from
// the stored text alone.
func Render(t *models.ConsentTemplate, data FormData) (text string, sha256hex string, err error) {
	text, err = renderBody(t.Body, data.quoted())
	if err != nil {
		return "", "", fmt.Errorf("consent template %s v%d: %w", t.Language, t.Version, err)
	}
	return text, TextSHA256(text), nil
}

func renderBody(body string, data FormData) (string, error) {
	tpl, err := template.New("form").Option("missingkey=error").Parse(body)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		return "", err
	}
	return canon(b.String()), nil
}

// TextSHA256 is the hash recorded for a template body or a rendered form.
func TextSHA256(text string) string {
	sum := sha256.Sum256([]byte(canon(text)))
	return hex.EncodeToString(sum[:])
}

var (
	monthsES = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
		"agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	nameUsage = map[string]map[string]string{
		"en": {"full": "your full name", "first_name": "your first name only", "anonymous": "no name (anonymous)"},
		"es": {"full": "su nombre completo", "first_name": "solo su nombre de pila", "anonymous": "sin nombre (anónimo)"},
	}
)

// RevokeHowText is what the form prints for {{.RevokeURL}}: the personal
// revocation link is sent by email with the signed copy, never printed in
// the form (it is a credential; the form text is seen by staff).
func RevokeHowText(language string) string {
	if language == "es" {
		return "el enlace personal para revocar que le enviaremos por correo electrónico con su copia firmada de este formulario (guarde ese correo)"
	}
	return "the personal revocation link we email you with your signed copy of this form (keep that email)"
}

// FormatDate writes t as a reader in language expects it on a legal form
// ("December 31, 2027" / "31 de diciembre de 2027"), with no time of day so
// the form does not depend on a time zone.
func FormatDate(language string, t time.Time) string {
	if language == "es" {
		return fmt.Sprintf("%d de %s de %d", t.Day(), monthsES[t.Month()-1], t.Year())
	}
	return t.Format("January 2, 2006")
}

// NameUsageText returns the phrase for a name-usage choice (full,
// first_name, anonymous) in language, for FormData.NameUsage.
func NameUsageText(language, usage string) string {
	if m, ok := nameUsage[language]; ok {
		if s, ok := m[usage]; ok {
			return s
		}
	}
	return nameUsage["en"][usage]
}
