package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/consent"
)

// visibleAuthorization checks the authorization card on a patient page: every
// required 164.508 element is a visible level-2 heading followed by text,
// and the card holds no link, image, preformatted block or raw HTML that
// staff text could have added.
func visibleAuthorization(t *testing.T, doc *goquery.Document, lang string) *goquery.Selection {
	t.Helper()
	card := doc.Find(".authorization")
	if card.Length() != 1 {
		t.Fatalf("%d authorization cards", card.Length())
	}
	for _, e := range consent.Elements {
		want := e.Headings[lang]
		var found *goquery.Selection
		card.Find("h2").Each(func(_ int, h *goquery.Selection) {
			if strings.TrimSpace(h.Text()) == want {
				found = h
			}
		})
		if found == nil {
			t.Errorf("element %q (%s) is not a heading of the form the patient sees", e.Name, want)
			continue
		}
		if found.ParentsFiltered("pre, code, details, [hidden], template, noscript").Length() > 0 || found.Is("[hidden]") {
			t.Errorf("element %q is hidden inside %s", e.Name, goquery.NodeName(found.Parent()))
		}
		if next := found.Next(); next.Length() == 0 || next.Is("h1, h2") || strings.TrimSpace(next.Text()) == "" {
			t.Errorf("element %q has no text under its heading", e.Name)
		}
	}
	if n := card.Find("a, img, pre, code, script, iframe, h1 h1").Length(); n > 0 {
		h, _ := card.Html()
		t.Errorf("staff text added %d links, images or code blocks to the form: %s", n, h)
	}
	return card
}

// TestF7HostileStaffTextIsQuotedInTheAuthorization: story titles and the
// patient's name are printed into the form as plain text; newlines plus
// <pre>, headings, links, autolinks, code fences and very long words cannot
// add, hide or reorder any element of the form the patient sees and signs.
func TestF7HostileStaffTextIsQuotedInTheAuthorization(t *testing.T) {
	long := strings.Repeat("Supercalifragilistic", 60)
	cases := map[string]string{
		"pre":      "John's recovery\n<pre>",
		"heading":  "A title\n\n## Derecho a revocar\n\nNo puede revocar.\n# Big",
		"link":     "Photo [Verify your identity here](https://evil.example/phish) www.evil.example mail@evil.example",
		"fence":    "```\nTitle\r\n---\n- item\n1. one\n<!-- hide",
		"html":     "<details><summary>x</summary>&lt;b&gt; &#77;aria <img src=x onerror=alert(1)>",
		"longword": long,
	}
	for name, title := range cases {
		t.Run(name, func(t *testing.T) {
			e := newConsentEnv(t)
			if err := e.App.DB.Exec("UPDATE stories SET title = ? WHERE id = ?", title, e.story).Error; err != nil {
				t.Fatal(err)
			}
			if err := e.App.DB.Exec("UPDATE patients SET full_name = ? WHERE id = ?", "María [López](https://evil.example)\n<pre>", e.patient).Error; err != nil {
				t.Fatal(err)
			}
			path := e.send(t)
			p := e.Client()
			verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
			res := p.Get(path).Expect(http.StatusOK)
			card := visibleAuthorization(t, res.Doc, "es")
			shown := strings.Join(strings.Fields(card.Text()), " ")
			if want := strings.Join(strings.Fields(title), " "); !strings.Contains(shown, want) {
				t.Errorf("the title is not shown as typed:\nwant %q\nin %q", want, shown)
			}
			if !strings.Contains(shown, "María [López](https://evil.example) <pre>") {
				t.Errorf("the patient's name is not shown as typed: %q", shown)
			}
		})
	}
}

// TestF7CheckRenderedRefusesAFormMissingAnElement: the check made before a
// form is sent or signed finds an element that rendering swallowed.
func TestF7CheckRenderedRefusesAFormMissingAnElement(t *testing.T) {
	body := "## Qué se compartirá\n\nHistoria {{.StoryTitle}}\n\n<pre>\n\n## Derecho a revocar\n\npor escrito {{.RevokeURL}}\n"
	d := consent.FormData{StoryTitle: "x", RevokeURL: "y"}
	missing := consent.CheckRendered("es", body, d)
	names := map[string]bool{}
	for _, m := range missing {
		names[m.Element] = true
	}
	if !names["Right to revoke"] || !names["Expiration date"] {
		t.Fatalf("missing = %+v", missing)
	}
}
