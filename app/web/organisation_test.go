package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/models"
)

// TestOrganisationSettingsAdminOnlyAudited (issue 19 item 3): only admins
// open and save Admin → Organisation; a form without the CSRF token is
// refused; bad values come back with a message beside each field; a save
// is audited and read back.
func TestOrganisationSettingsAdminOnlyAudited(t *testing.T) {
	e := newConsentEnv(t)
	e.staff.Get("/admin/organisation").Expect(http.StatusForbidden)
	e.staff.Post("/admin/organisation", url.Values{"legal_name": {"X"}}).Expect(http.StatusForbidden)
	admin, _ := e.SignedIn(models.RoleAdmin)
	page := admin.Get("/admin/organisation").Expect(http.StatusOK)
	if page.Doc.Find("#legal_name").AttrOr("value", "") != "Hospital Señora de la Peña, Inc." || page.Doc.Find("#time_zone").AttrOr("value", "") != "America/Chicago" {
		t.Fatal("the form does not show the saved details")
	}
	good := url.Values{"legal_name": {"Mercy General, Inc."}, "postal_address": {"10 Elm Street\r\nSuite 4\r\nDayton, OH 45402"},
		"phone": {"+1 (937) 555-0142"}, "privacy_email": {"privacy@mercy.example"}, "time_zone": {"America/New_York"}}
	admin.PostRaw("/admin/organisation", good).Expect(http.StatusForbidden) // no CSRF token

	bad := url.Values{"legal_name": {""}, "postal_address": {"x"}, "phone": {"call us"}, "privacy_email": {"not an email"}, "time_zone": {"Mars/Olympus"}}
	res := admin.Post("/admin/organisation", bad).Expect(http.StatusUnprocessableEntity)
	for _, f := range []string{"legal_name", "phone", "privacy_email", "time_zone"} {
		if res.Doc.Find("#"+f+"-error").Length() != 1 || res.Doc.Find("#"+f).AttrOr("aria-invalid", "") != "true" {
			t.Errorf("no error beside %s", f)
		}
	}
	admin.Post("/admin/organisation", good).Expect(http.StatusSeeOther)
	page = admin.Get("/admin/organisation").Expect(http.StatusOK)
	if page.Doc.Find("#postal_address").Text() != "10 Elm Street\nSuite 4\nDayton, OH 45402" || page.Doc.Find("#phone").AttrOr("value", "") != "+1 (937) 555-0142" {
		t.Fatalf("saved values not read back: %q", page.Doc.Find("#postal_address").Text())
	}
	var a models.AuditEntry
	if err := e.App.DB.Where("action = ?", "organisation.update").Order("id DESC").Limit(1).Find(&a).Error; err != nil || !strings.Contains(a.Details, "Mercy General") {
		t.Fatalf("the change is not audited: %v %+v", err, a)
	}
}

// TestConsentNeedsOrganisationContacts: a consent request cannot be sent
// until the organisation's contact details are set, and the error names
// what to fill; once set, the form the patient signs, the patient's pages
// and emails give the real routes instead of "call the team".
func TestConsentNeedsOrganisationContacts(t *testing.T) {
	e := newConsentEnv(t)
	if err := e.App.DB.Where("key IN ?", []string{"organisation.phone", "organisation.privacy_email"}).Delete(&models.Setting{}).Error; err != nil {
		t.Fatal(err)
	}
	if note := e.staff.Get("/stories/" + e.story + "/consent").Expect(http.StatusOK).Text("#org-missing"); !strings.Contains(note, "phone number, privacy contact email") {
		t.Errorf("the consent page does not say what is missing: %q", note)
	}
	res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusConflict)
	if !strings.Contains(res.Body, "phone number, privacy contact email") || !strings.Contains(res.Body, "Admin → Organisation") {
		t.Fatalf("the refusal does not name what to fill:\n%s", res.Body)
	}
	var n int64
	e.App.DB.Model(&models.ConsentRequest{}).Count(&n)
	if n != 0 || e.stage(t) != "drafting" {
		t.Fatal("a request was sent without the organisation's contact details")
	}

	admin, _ := e.SignedIn(models.RoleAdmin)
	admin.Post("/admin/organisation", url.Values{"legal_name": {"Hospital Señora de la Peña, Inc."}, "postal_address": {"1 Calle Mayor\nSpringfield, IL 62701"},
		"phone": {"+1 555 010 0100"}, "privacy_email": {"privacy@hospital.test"}, "time_zone": {"America/Chicago"}}).Expect(http.StatusSeeOther)
	if e.staff.Get("/stories/"+e.story+"/consent").Doc.Find("#org-missing").Length() != 0 {
		t.Error("the consent page still says details are missing")
	}
	path := e.send(t)
	if m := e.smtp.Last(t); !strings.Contains(m.Text, "+1 555 010 0100") || !strings.Contains(m.Text, "privacy@hospital.test") || strings.Contains(m.Text, "llame al equipo") {
		t.Errorf("the invitation gives no real contact route:\n%s", m.Text)
	}
	p := e.Client()
	verify := p.Get(path).Expect(http.StatusOK)
	if foot := verify.Text(".patient-foot"); !strings.Contains(foot, "+1 555 010 0100") || !strings.Contains(foot, "privacy@hospital.test") {
		t.Errorf("the patient's page footer: %q", foot)
	}
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hospital Señora de la Peña, Inc., 1 Calle Mayor, Springfield, IL 62701", "+1 555 010 0100", "privacy@hospital.test"} {
		if !strings.Contains(strings.ReplaceAll(rec.AuthorizationText, `\`, ""), want) { // as the patient reads it (values are Markdown-quoted)
			t.Errorf("the signed form lacks %q", want)
		}
	}
	m := e.smtp.Last(t)
	if !strings.Contains(m.Text, "+1 555 010 0100") || strings.Contains(m.Text, "llame al equipo") {
		t.Errorf("the certificate email gives no real contact route:\n%s", m.Text)
	}
	text := pdfText(t, m.Attachments[0].Data)
	for _, want := range []string{"Llame a Hospital Señora de la Peña, Inc. al +1 555 010 0100, o escriba a nuestro contacto de privacidad a privacy@hospital.test"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("the certificate lacks %q:\n%s", want, text)
		}
	}
}
