package consent

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/markdown"
	"github.com/storykeep/storykeep/models"
)

// RenderedHTML is the authorization text as the patient's page shows it.
// The page and CheckRendered both use it, so what is checked is what is shown.
func RenderedHTML(text string) string { return string(markdown.Render(text)) }

// CheckRendered checks the filled-in form as the patient will see it, after
// Markdown rendering and sanitising: every required 164.508 element must be
// there as a level-2 heading in language, exactly once, followed by text that
// says what the element needs (its keywords) and shows each value it prints
// (organisation, channels, media, name usage, expiry date, names). A value
// that swallowed later sections (an HTML block, a code fence) or a section
// that no longer shows its value makes the element "missing"; callers refuse
// to send or sign such a form. Values are compared with white space
// collapsed, as Quote prints them.
func CheckRendered(language, text string, data FormData) []Missing {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(RenderedHTML(text)))
	if err != nil {
		return []Missing{{Element: "Form", Explanation: "The form could not be read back: " + err.Error()}}
	}
	sections := map[string][]string{}
	doc.Find("h2").Each(func(_ int, h *goquery.Selection) {
		var b strings.Builder
		for n := h.Next(); n.Length() > 0 && !n.Is("h1, h2"); n = n.Next() {
			b.WriteString(n.Text())
			b.WriteString(" ")
		}
		k := plainFold(h.Text())
		sections[k] = append(sections[k], plainFold(b.String()))
	})
	var out []Missing
	for _, e := range Elements {
		if e.WhenSponsored && !data.Sponsored {
			continue
		}
		heading := e.Headings[language]
		if heading == "" {
			heading = e.Headings["en"]
		}
		secs := sections[plainFold(heading)]
		if len(secs) != 1 {
			out = append(out, Missing{Element: e.Name, Explanation: fmt.Sprintf("The section “%s” is not shown exactly once to the patient (%s).", heading, e.Rule)})
			continue
		}
		sec := secs[0]
		var lacks []string
		if sec == "" {
			lacks = append(lacks, "any text")
		}
		for _, k := range e.Keywords[language] {
			if !strings.Contains(sec, plainFold(k)) {
				lacks = append(lacks, "“"+k+"”")
			}
		}
		for _, p := range e.Placeholders {
			for _, v := range shownValues(data, p) {
				if !strings.Contains(sec, plainFold(v)) {
					lacks = append(lacks, "{{."+p+"}}")
					break
				}
			}
		}
		if len(lacks) > 0 {
			out = append(out, Missing{Element: e.Name, Explanation: fmt.Sprintf("The section “%s” does not show %s to the patient (%s).", heading, strings.Join(lacks, ", "), e.Rule)})
		}
	}
	return out
}

// shownValues lists the texts field p of d must show.
func shownValues(d FormData, p string) []string {
	switch p {
	case "Channels":
		return listOrDash(d.Channels)
	case "MediaList":
		return listOrDash(d.MediaList)
	case "Representative":
		if d.Representative == "" {
			return nil
		}
		return []string{d.Representative}
	}
	return []string{sampleValue(d, p)}
}

func listOrDash(l List) []string {
	if len(l) == 0 {
		return []string{"—"}
	}
	return l
}

// plainFold compares shown text: canonical, lower case, all white space
// (including line breaks) collapsed to single spaces.
func plainFold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(canon(s))), " ")
}

// MissingError is a form that does not show every required element.
type MissingError struct{ Missing []Missing }

func (e *MissingError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		parts[i] = m.Element + ": " + m.Explanation
	}
	return "The authorization form would not show every required element to the patient, so it was not used. " + strings.Join(parts, " ")
}

// renderChecked renders t with data and refuses (422, naming what is
// missing) a form that would not show the patient every required element.
func renderChecked(t *models.ConsentTemplate, data FormData) (string, error) {
	text, _, err := Render(t, data)
	if err != nil {
		return "", err
	}
	if missing := CheckRendered(t.Language, text, data); len(missing) > 0 {
		return "", apperr.New(http.StatusUnprocessableEntity, (&MissingError{Missing: missing}).Error())
	}
	return text, nil
}
