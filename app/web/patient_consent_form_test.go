package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
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

// confirmSign takes a patient through the last two steps: the choices go to
// /confirm, which shows the final authorization with them filled in, and the
// signature is posted with that text's hash, as the confirm page's form does.
func confirmSign(p *apptest.Client, path string, form url.Values) *apptest.Resp {
	res := p.Post(path+"/confirm", cloneValues(form))
	form = cloneValues(form)
	if res.Doc != nil {
		if h := res.Doc.Find(`#sign-form input[name=auth_sha256]`).AttrOr("value", ""); h != "" {
			form.Set("auth_sha256", h)
		}
		if h := res.Doc.Find(`#sign-form input[name=esign_sha256]`).AttrOr("value", ""); h != "" {
			form.Set("esign_sha256", h)
		}
	}
	return p.Post(path+"/sign", form)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestConsentSignsTheFinalAuthorization: after choosing, the patient is shown
// the authorization with only the chosen channels, the chosen name usage and
// the chosen end date filled in; exactly that text is signed and hashed,
// and /verify shows the consented scope.
func TestConsentSignsTheFinalAuthorization(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	offered := visibleAuthorization(t, p.Get(path).Expect(http.StatusOK).Doc, "es").Text()
	if !strings.Contains(offered, "Sitio web") || !strings.Contains(offered, "el día que usted elija") {
		t.Fatalf("the offer does not list every channel and an open date: %s", offered)
	}
	exp := time.Now().AddDate(0, 7, 0)
	form := signForm()
	form["channels"] = []string{"x"}
	form.Set("name_usage", "anonymous")
	form.Set("expires_on", exp.Format("2006-01-02"))
	conf := p.Post(path+"/confirm", cloneValues(form)).Expect(http.StatusOK)
	final := strings.Join(strings.Fields(visibleAuthorization(t, conf.Doc, "es").Text()), " ")
	for _, want := range []string{"- X", "sin nombre (anónimo)", consent.FormatDate("es", exp)} {
		if !strings.Contains(final, strings.TrimPrefix(want, "- ")) {
			t.Errorf("final authorization lacks %q: %s", want, final)
		}
	}
	for _, not := range []string{"Sitio web", "solo su nombre de pila", "el día que usted elija"} {
		if strings.Contains(final, not) {
			t.Errorf("final authorization still shows the offer's %q", not)
		}
	}
	// Change the choices in another tab: the confirmed text no longer
	// matches, so the patient is shown the new text, nothing is signed.
	stale := cloneValues(form)
	stale.Set("auth_sha256", conf.Doc.Find("#sign-form input[name=auth_sha256]").AttrOr("value", ""))
	stale.Set("name_usage", "first_name")
	p.Post(path+"/sign", stale).Expect(http.StatusConflict).Contains("La autorización cambió")

	confirmSign(p, path, form).Expect(http.StatusOK).Contains("Gracias")
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	shown := strings.Join(strings.Fields(consentText(t, consent.RenderedHTML(rec.AuthorizationText))), " ")
	if shown != final || rec.AuthorizationSHA256 != consent.TextSHA256(rec.AuthorizationText) || rec.ScopeDigest == "" ||
		rec.EsignSHA256 != consent.TextSHA256(consent.EsignDisclosureFor("es", apptest.TestOrganisation)) || rec.SignerKind != "patient" {
		t.Fatalf("the record does not hold the confirmed text and its hashes: %+v", rec)
	}
	res := e.Client().Get("/verify/" + rec.ID).Expect(http.StatusOK)
	scope := strings.Join(strings.Fields(res.Doc.Find("#scope").Text()), " ")
	if ch := res.Doc.Find("#scope dd").First().Text(); ch != "X" {
		t.Errorf("/verify shows consented channels %q", ch)
	}
	for _, want := range []string{"matches the signed-scope digest", rec.ScopeDigest, "no name (anonymous)", exp.Format("2006-01-02")} {
		if !strings.Contains(scope, want) {
			t.Errorf("/verify scope lacks %q: %s", want, scope)
		}
	}
}

func consentText(t *testing.T, html string) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(`<div class="authorization">` + html + `</div>`))
	if err != nil {
		t.Fatal(err)
	}
	return visibleAuthorization(t, doc, "es").Text()
}

// TestConsentVerifyScopeMismatch: changing any chosen value of a record
// directly in the database makes /verify say the record does not match.
func TestConsentVerifyScopeMismatch(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	form := signForm()
	form["channels"] = []string{"x"}
	confirmSign(p, path, form).Expect(http.StatusOK)
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	e.Client().Get("/verify/" + rec.ID + "?digest=" + rec.Digest).Expect(http.StatusOK).Contains("This certificate is genuine").Contains("matches the signed-scope digest")
	for col, val := range map[string]any{"channels": `["website","x"]`, "name_usage": "full", "expires_on": rec.ExpiresOn.AddDate(3, 0, 0), "media_ids": `["other"]`} {
		if err := e.App.DB.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Update(col, val).Error; err != nil {
			t.Fatal(err)
		}
		res := e.Client().Get("/verify/" + rec.ID + "?digest=" + rec.Digest).Expect(http.StatusOK)
		if !strings.Contains(res.Body, "does not match") || strings.Contains(res.Body, "This certificate is genuine") {
			t.Errorf("%s changed in the database: /verify still says it matches", col)
		}
		if err := e.App.DB.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Updates(map[string]any{"channels": rec.Channels, "name_usage": rec.NameUsage,
			"expires_on": rec.ExpiresOn, "media_ids": rec.MediaIDs}).Error; err != nil {
			t.Fatal(err)
		}
	}
	e.Client().Get("/verify/" + rec.ID).Expect(http.StatusOK).Contains("matches the signed-scope digest")
}
