package e2e

import (
	"strings"
	"testing"
)

// TestAxeOnEveryStaffScreen opens every staff screen (as an admin, and the
// review screen as a reviewer) with a patient, an interview and a story in
// place, and runs axe-core on each: no serious or critical violation.
func TestAxeOnEveryStaffScreen(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("admin")
	signIn(p, srv.AdminEmail, srv.AdminPassword)
	changePassword(p, srv.AdminPassword, "a long admin passphrase 1")

	p.Open("/patients/new")
	p.Type("#full_name", "Ana Ruiz")
	p.Type("#dob", "1980-03-04")
	p.Click(`main form button[type=submit]`)
	patient := strings.TrimPrefix(p.Path(), "/patients/")
	p.Open("/stories/new?patient=" + patient)
	p.Type("#title", "Ana runs again")
	p.Type("#body", "Ana thanks nurse Sam. Call 555-123-4567.")
	p.Click(`main form button[type=submit]`)
	story := strings.TrimPrefix(p.Path(), "/stories/")
	p.Open("/admin/consent-templates")
	template := Eval[string](p, `(document.querySelector("main table tbody tr[id^=template-]")||{id:""}).id.replace("template-","")`)
	p.Open("/admin/users")
	user := Eval[string](p, `(document.querySelector("select[id^=role-]")||{id:""}).id.replace("role-","")`)

	pages := []string{
		"/", "/stories", "/stories/new?patient=" + patient, "/stories/choose-patient?for=new&q=an", "/stories?patient=" + patient, "/stories/" + story, "/stories/" + story + "/edit", "/stories/" + story + "/history",
		"/stories/" + story + "/media", "/stories/" + story + "/consent", "/stories/" + story + "/publish",
		"/stories/" + story + "/comments",
		"/patients", "/patients/new", "/patients/" + patient, "/patients/" + patient + "/edit", "/patients/" + patient + "/interviews/new",
		"/interviews", "/inbox", "/publishing",
		"/admin/users", "/admin/users/new", "/admin/audit", "/admin/jobs", "/admin/settings", "/admin/channels",
		"/admin/consent-templates", "/admin/consent-templates/" + template,
		"/account/password", "/account/2fa",
	}
	if user == "" || template == "" {
		t.Fatalf("fixtures: user %q template %q", user, template)
	}
	for _, path := range pages {
		p.Open(path)
		p.CheckA11y()
	}

	// The review screen belongs to reviewers.
	p.Open("/admin/users/new")
	p.Type("#name", "Rita Reviewer")
	p.Type("#email", "rita@hospital.test")
	p.Choose("#role", "Legal reviewer")
	p.Click(`main form button[type=submit]`)
	temp := strings.TrimSpace(p.Text(".notice code"))
	r := b.NewPage("reviewer")
	signIn(r, "rita@hospital.test", temp)
	changePassword(r, temp, "a long reviewer passphrase")
	r.Open("/stories/" + story + "/review")
	r.CheckA11y()
}
