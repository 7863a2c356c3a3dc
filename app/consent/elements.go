package consent

import (
	"fmt"
	"regexp"
	"strings"
)

// Languages the consent form exists in, keyed by the code stored on
// templates and patients.
var Languages = map[string]string{"en": "English", "es": "Spanish"}

// Element is one thing 45 CFR 164.508(c) requires an authorization to
// contain. A template proves it contains the element with a level-2 Markdown
// heading of exactly the given text (in the template's language), and that
// section must print the listed placeholders and mention the listed keywords.
// Mechanical markers are crude, but they turn "is this form lawful?" into a
// check that cannot silently regress when someone edits the text. The rules
// are listed for people in docs/consent-templates.md.
type Element struct {
	Key          string
	Name         string            // plain-English name shown in Missing
	Rule         string            // the paragraph of 45 CFR 164.508 it satisfies
	Headings     map[string]string // language -> required "## " heading text
	Placeholders []string          // fields of FormData the section must print
	Keywords     map[string][]string
	Why          string // what the section must tell the patient
	// WhenSponsored: a filled-in form must show the element only for a
	// request flagged as sponsored (forms activated before the element
	// existed still serve unpaid requests); activation always needs it.
	WhenSponsored bool
}

// Elements lists every required element in the order the default forms use.
var Elements = []Element{
	{Key: "description", Name: "Description of the information", Rule: "164.508(c)(1)(i)",
		Headings:     map[string]string{"en": "What will be shared", "es": "Qué se compartirá"},
		Placeholders: []string{"StoryTitle", "MediaList", "NameUsage"},
		Why:          "describe exactly what will be shared: the story, the photos, video or audio, and how the patient's name is used"},
	{Key: "discloser", Name: "Who discloses", Rule: "164.508(c)(1)(ii)",
		Headings:     map[string]string{"en": "Who will share it", "es": "Quién lo compartirá"},
		Placeholders: []string{"OrganisationName"},
		Why:          "name the organisation that will share the information"},
	{Key: "recipients", Name: "Who receives", Rule: "164.508(c)(1)(iii)",
		Headings:     map[string]string{"en": "Who will receive it", "es": "Quién lo recibirá"},
		Placeholders: []string{"Channels"},
		Keywords:     map[string][]string{"en": {"public"}, "es": {"público"}},
		Why:          "say that the public receives it, through the channels listed"},
	{Key: "purpose", Name: "Purpose", Rule: "164.508(c)(1)(iv)",
		Headings: map[string]string{"en": "Why it will be shared", "es": "Para qué se compartirá"},
		Why:      "say why the information will be shared"},
	{Key: "expiration", Name: "Expiration date", Rule: "164.508(c)(1)(v)",
		Headings:     map[string]string{"en": "When this authorization ends", "es": "Cuándo termina esta autorización"},
		Placeholders: []string{"ExpiresOn"},
		Why:          "give the date the authorization ends"},
	{Key: "signature", Name: "Signature and date", Rule: "164.508(c)(1)(vi)",
		Headings:     map[string]string{"en": "Signature and date", "es": "Firma y fecha"},
		Placeholders: []string{"PatientName"},
		Keywords:     map[string][]string{"en": {"sign", "date"}, "es": {"firm", "fecha"}},
		Why:          "say who signs and that the signature and date are recorded"},
	{Key: "representative", Name: "Representative's authority", Rule: "164.508(c)(1)(vi)",
		Headings:     map[string]string{"en": "If someone signs for the patient", "es": "Si otra persona firma por el paciente"},
		Placeholders: []string{"Representative"},
		Keywords:     map[string][]string{"en": {"authority"}, "es": {"autoridad"}},
		Why:          "when a representative signs, give their name and describe their authority to act for the patient"},
	{Key: "revoke", Name: "Right to revoke", Rule: "164.508(c)(2)(i)",
		Headings:     map[string]string{"en": "Right to revoke", "es": "Derecho a revocar"},
		Placeholders: []string{"RevokeURL"},
		Keywords:     map[string][]string{"en": {"writing"}, "es": {"por escrito"}},
		Why:          "say the patient may revoke in writing at any time, and how (the revocation link)"},
	{Key: "conditioning", Name: "No conditioning of care", Rule: "164.508(c)(2)(ii)",
		Headings: map[string]string{"en": "Your care does not depend on this", "es": "Su atención no depende de esto"},
		Keywords: map[string][]string{"en": {"treatment", "payment", "enrollment", "eligibility"},
			"es": {"tratamiento", "pago", "inscripción", "elegibilidad"}},
		Why: "say that treatment, payment, enrollment and eligibility for benefits do not depend on signing"},
	{Key: "redisclosure", Name: "Redisclosure", Rule: "164.508(c)(2)(iii)",
		Headings: map[string]string{"en": "Others may share it again", "es": "Otros pueden volver a compartirlo"},
		Keywords: map[string][]string{"en": {"no longer protected"}, "es": {"ya no está protegida"}},
		Why:      "say that once published the information may be shared again by others and is then no longer protected by federal privacy law"},
	{Key: "remuneration", Name: "Marketing and payment", Rule: "164.508(a)(3) and (a)(4)",
		Headings:      map[string]string{"en": "Whether anyone is paid", "es": "Si alguien recibe pago"},
		Placeholders:  []string{"Remuneration"},
		Keywords:      map[string][]string{"en": {"paid"}, "es": {"pago"}},
		WhenSponsored: true,
		Why:           "say whether the organisation is paid by anyone for sharing the story (marketing with remuneration), and by whom"},
}

// Missing is one required element a template lacks, explained in plain
// English so the person editing the form knows what to add.
type Missing struct {
	Element     string
	Explanation string
}

// Validate lists the required elements body lacks; an empty result means the
// form carries every element of 164.508(c)(1) and (c)(2). Headings are
// accepted in any supported language; Activate additionally insists on the
// template's own language.
func Validate(body string) []Missing { return validateIn("", body) }

// validateIn checks body; language "" accepts each element's heading in any
// supported language.
func validateIn(language, body string) []Missing {
	sections := splitSections(body)
	var out []Missing
	for _, e := range Elements {
		if problem := e.check(language, sections); problem != "" {
			out = append(out, Missing{Element: e.Name, Explanation: problem})
		}
	}
	return out
}

func (e Element) check(language string, sections map[string]string) string {
	langs := []string{language}
	if language == "" {
		langs = []string{"en", "es"}
	}
	for _, lang := range langs {
		text, ok := sections[fold(e.Headings[lang])]
		if !ok {
			continue
		}
		var lacks []string
		if strings.TrimSpace(placeholderRE.ReplaceAllString(text, "")) == "" {
			lacks = append(lacks, "some text")
		}
		for _, p := range e.Placeholders {
			if !printsField(text, p) {
				lacks = append(lacks, "{{."+p+"}}")
			}
		}
		for _, k := range e.Keywords[lang] {
			if !strings.Contains(text, fold(k)) {
				lacks = append(lacks, fmt.Sprintf("the words “%s”", k))
			}
		}
		if len(lacks) == 0 {
			return ""
		}
		return fmt.Sprintf("The “## %s” section must %s (%s). It lacks %s.",
			e.Headings[lang], e.Why, e.Rule, strings.Join(lacks, ", "))
	}
	want := make([]string, 0, len(langs))
	for _, lang := range langs {
		want = append(want, "“## "+e.Headings[lang]+"”")
	}
	return fmt.Sprintf("Add a section headed %s. It must %s (%s)%s.",
		strings.Join(want, " or "), e.Why, e.Rule, e.needs(langs[0]))
}

func (e Element) needs(lang string) string {
	var parts []string
	for _, p := range e.Placeholders {
		parts = append(parts, "{{."+p+"}}")
	}
	for _, k := range e.Keywords[lang] {
		parts = append(parts, "“"+k+"”")
	}
	if len(parts) == 0 {
		return ""
	}
	return "; include " + strings.Join(parts, ", ")
}

var placeholderRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// printsField reports whether text prints FormData field name with an action
// such as {{.RevokeURL}} or {{ .RevokeURL }} (not merely tests it in an if).
func printsField(text, name string) bool {
	re := regexp.MustCompile(`\{\{-?\s*\.` + strings.ToLower(name) + `\s*-?\}\}`)
	return re.MatchString(text)
}

// splitSections maps each folded "## " heading to the folded text below it,
// up to the next level-1 or level-2 heading. Repeated headings are joined.
func splitSections(body string) map[string]string {
	out := map[string]string{}
	current, inSection := "", false
	for _, line := range strings.Split(fold(body), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "## "):
			current = strings.TrimSpace(strings.TrimRight(strings.TrimPrefix(trimmed, "## "), "# "))
			inSection = true
			if _, seen := out[current]; !seen {
				out[current] = ""
			}
		case strings.HasPrefix(trimmed, "# "):
			inSection = false
		case inSection:
			out[current] += line + "\n"
		}
	}
	return out
}

// fold puts text in the form the checks compare: canonical (NFC, LF) and
// lower case with runs of spaces collapsed.
func fold(s string) string {
	s = strings.ToLower(canon(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' }), " ")
}
