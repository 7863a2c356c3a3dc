package web_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

func patientForm(mods ...func(url.Values)) url.Values {
	f := url.Values{"full_name": {"Dana Whitfield"}, "preferred_name": {"Dee"}, "dob": {"1979-11-05"},
		"email": {"dana.w@example.org"}, "phone": {"+1 555 010 0142"}, "language": {"en"}}
	for _, m := range mods {
		m(f)
	}
	return f
}

func TestPatientFormRejectsBadInputPerField(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleStoryteller)
	cases := []struct{ field, value, want string }{
		{"full_name", "", "Enter the patient's full name."},
		{"dob", "1979-13-05", "Enter the date of birth as YYYY-MM-DD"},
		{"dob", "2999-01-01", "Date of birth cannot be in the future."},
		{"email", "dana at example", "Enter an email address like name@example.org."},
		{"phone", "call me", "Enter a phone number using digits"},
		{"language", "de", "Choose English or Spanish."},
		{"rep_relationship", "guardian", "Enter the representative's name"},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			res := c.Post("/patients", patientForm(func(f url.Values) { f.Set(tc.field, tc.value) })).Expect(http.StatusUnprocessableEntity)
			errField := "rep_name"
			if tc.field != "rep_relationship" {
				errField = tc.field
			}
			in := res.Doc.Find("#" + errField)
			if in.AttrOr("aria-invalid", "") != "true" || !strings.Contains(in.AttrOr("aria-describedby", ""), errField+"-error") {
				t.Fatalf("%s not marked invalid / linked to its error", errField)
			}
			if got := res.Text("#" + errField + "-error"); !strings.Contains(got, tc.want) {
				t.Fatalf("message beside %s: %q", errField, got)
			}
			if tc.field != "language" && res.Doc.Find("#"+tc.field).AttrOr("value", res.Doc.Find("#"+tc.field).Text()) != tc.value {
				t.Fatalf("submitted %s not kept", tc.field)
			}
		})
	}
	var n int64
	env.App.DB.Model(&models.Patient{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d patients stored from bad input", n)
	}
}

func createPatient(t *testing.T, c *apptest.Client, f url.Values) string {
	t.Helper()
	res := c.Post("/patients", f).Expect(http.StatusSeeOther)
	id := strings.TrimPrefix(res.Location(), "/patients/")
	if id == "" || strings.Contains(id, "/") {
		t.Fatalf("redirect to %q", res.Location())
	}
	return id
}

func TestPatientCreateViewEditAndRoles(t *testing.T) {
	env := apptest.New(t)
	teller, _ := env.SignedIn(models.RoleStoryteller)
	id := createPatient(t, teller, patientForm())
	var raw map[string]any
	env.App.DB.Raw("SELECT * FROM patients WHERE id = ?", id).Scan(&raw)
	stored := maps.Clone(raw)
	for _, k := range []string{"id", "created_by", "created_at", "updated_at"} {
		delete(stored, k) // random hex and clock digits may spell "0142" by chance
	}
	if s := fmt.Sprint(stored); strings.Contains(s, "1979") || strings.Contains(s, "dana.w") || strings.Contains(s, "0142") {
		t.Fatalf("PHI in clear at rest: %s", s)
	}
	if dob, err := env.App.Keys.Open(fmt.Sprint(raw["dob_sealed"]), "patient:"+id+":dob"); err != nil || dob != "1979-11-05" {
		t.Fatalf("dob opens to %q %v", dob, err)
	}

	page := teller.Get("/patients/" + id).Expect(http.StatusOK).Contains("Dana Whitfield was added.")
	if page.Text("#dob") != "1979-11-05" || page.Text("#email") != "dana.w@example.org" || page.Text("#phone") != "+1 555 010 0142" {
		t.Fatalf("details: %s", page.Text("main"))
	}
	reviewer, rv := env.SignedIn(models.RoleReviewer)
	rpage := reviewer.Get("/patients/" + id).Expect(http.StatusOK)
	if rpage.Doc.Find(`a[href$="/edit"]`).Length() != 0 {
		t.Fatal("reviewer must not be offered editing")
	}
	reviewer.Get("/patients/" + id + "/edit").Expect(http.StatusForbidden)
	reviewer.Post("/patients/"+id, patientForm()).Expect(http.StatusForbidden)
	publisher, _ := env.SignedIn(models.RolePublisher)
	publisher.Get("/patients/" + id).Expect(http.StatusForbidden)
	publisher.Get("/patients").Expect(http.StatusForbidden)
	if publisher.Get("/").Doc.Find(`nav a[href="/patients"]`).Length() != 0 {
		t.Fatal("publisher's nav links to patients")
	}

	// Every view, and opening the edit form, is audited; no entry carries PHI.
	teller.Get("/patients/" + id + "/edit").Expect(http.StatusOK)
	var views []models.AuditEntry
	env.App.DB.Where("action = 'patient.view' AND object_id = ?", id).Order("id").Find(&views)
	if len(views) != 3 || views[1].ActorID != rv.ID || views[2].Details != `{"purpose":"edit"}` {
		t.Fatalf("patient.view entries: %+v", views)
	}
	var all []models.AuditEntry
	env.App.DB.Find(&all)
	for _, e := range all {
		// Only the free-text parts: ids and hashes are random hex, which
		// may contain "0142" or "1979" by chance.
		if s := e.Details + " " + e.Actor; strings.Contains(s, "Dana") || strings.Contains(s, "1979") || strings.Contains(s, "dana.w") || strings.Contains(s, "0142") {
			t.Fatalf("audit entry carries PHI: %+v", e)
		}
	}

	teller.Post("/patients/"+id, patientForm(func(f url.Values) { f.Set("email", "nope") })).Expect(http.StatusUnprocessableEntity).Contains("Enter an email address")
	teller.Post("/patients/"+id, patientForm(func(f url.Values) { f.Set("phone", "555 010 9999") })).Expect(http.StatusSeeOther)
	if got := teller.Get("/patients/" + id).Text("#phone"); got != "555 010 9999" {
		t.Fatalf("phone after edit: %q", got)
	}
	var upd models.AuditEntry
	env.App.DB.Where("action = 'patient.update'").Take(&upd)
	if upd.Details != `{"fields":["phone"]}` {
		t.Fatalf("update audit: %s", upd.Details)
	}
	teller.Get("/patients/nope").Expect(http.StatusNotFound)
	teller.Post("/patients/nope", patientForm()).Expect(http.StatusNotFound)
}

func TestPatientListSearchAndPages(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleStoryteller)
	for i := 0; i < 27; i++ {
		createPatient(t, c, patientForm(func(f url.Values) { f.Set("full_name", fmt.Sprintf("Patient %02d", i)) }))
	}
	createPatient(t, c, patientForm(func(f url.Values) { f.Set("full_name", "Zed Quill") }))
	first := c.Get("/patients").Expect(http.StatusOK)
	if n := first.Doc.Find("tbody tr").Length(); n != 25 {
		t.Fatalf("first page has %d rows", n)
	}
	// The page's text, not its markup: ids in links and tokens are random
	// hex, which may contain "0142" or "1979" by chance.
	if text := first.Doc.Find("body").Text(); strings.Contains(first.Body, "dana.w@example.org") || strings.Contains(text, "0142") || strings.Contains(text, "1979") {
		t.Fatal("the list shows contact details")
	}
	if first.Doc.Find("th[scope=col]").Length() != 4 {
		t.Fatal("column headers need scope")
	}
	next := first.Doc.Find(`a[rel=next]`).AttrOr("href", "")
	second := c.Get(next).Expect(http.StatusOK)
	if second.Doc.Find("tbody tr").Length() != 3 || second.Text("tbody tr:last-child td") != "Zed Quill" || second.Doc.Find(`a[rel=next]`).Length() != 0 {
		t.Fatalf("second page: %s", second.Text("tbody"))
	}
	found := c.Get("/patients?q=zed").Expect(http.StatusOK)
	if found.Doc.Find("tbody tr").Length() != 1 || found.Text("tbody td") != "Zed Quill" {
		t.Fatalf("search: %s", found.Text("tbody"))
	}
	if byFamily := c.Get("/patients?q=qui").Expect(http.StatusOK); byFamily.Text("tbody td") != "Zed Quill" {
		t.Fatalf("search by family name: %s", byFamily.Text("tbody"))
	}
	c.Get("/patients?after=garbage!").Expect(http.StatusBadRequest)
	if env.App.Web == nil || len(env.App.Web.RouteTable()) == 0 {
		t.Fatal("no routes")
	}
	var n int64
	env.App.DB.Model(&models.AuditEntry{}).Where("action = 'patient.view'").Count(&n)
	if n != 0 {
		t.Fatalf("listing names is not a view of details, but %d views were audited", n)
	}
}

func TestMRNFieldHiddenUntilEnabled(t *testing.T) {
	env := apptest.New(t)
	admin, _ := env.SignedIn(models.RoleAdmin)
	teller, _ := env.SignedIn(models.RoleStoryteller)
	if teller.Get("/patients/new").Expect(http.StatusOK).Doc.Find("#mrn").Length() != 0 {
		t.Fatal("MRN field shown while disabled")
	}
	teller.Get("/admin/settings").Expect(http.StatusForbidden)
	admin.Post("/admin/settings", url.Values{"mrn_enabled": {"on"}}).Expect(http.StatusSeeOther)
	if teller.Get("/patients/new").Doc.Find("#mrn").Length() != 1 {
		t.Fatal("MRN field missing once enabled")
	}
	id := createPatient(t, teller, patientForm(func(f url.Values) { f.Set("mrn", "A-778899") }))
	var sealed string
	env.App.DB.Raw("SELECT mrn_sealed FROM patients WHERE id = ?", id).Scan(&sealed)
	if sealed == "" || strings.Contains(sealed, "778899") {
		t.Fatalf("MRN not sealed: %q", sealed)
	}
	if got := teller.Get("/patients/" + id).Text("#mrn"); got != "A-778899" {
		t.Fatalf("MRN shown as %q", got)
	}
	admin.Post("/admin/settings", url.Values{}).Expect(http.StatusSeeOther)
	if teller.Get("/patients/"+id).Doc.Find("#mrn").Length() != 0 {
		t.Fatal("MRN shown after being disabled")
	}
}
