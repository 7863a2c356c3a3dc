package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/mail/smtptest"
)

// TestAxeOnEveryStaffScreen opens every staff screen (as an admin, and the
// review screen as a reviewer) with a patient, an interview and a story in
// place, and runs axe-core on each: no serious or critical violation.
func TestAxeOnEveryStaffScreen(t *testing.T) {
	mailbox := smtptest.Start(t, smtptest.Options{})
	srv := StartServer(t, "STORYKEEP_MAIL_MODE=smtp", "STORYKEEP_SMTP_HOST="+mailbox.Host, fmt.Sprintf("STORYKEEP_SMTP_PORT=%d", mailbox.Port),
		"STORYKEEP_SMTP_TLS=none", "STORYKEEP_SMTP_FROM=stories@hospital.example")
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
	// A legal hold, so the retention page shows its table and lift button.
	p.Open("/admin/retention")
	p.Type("#subject_id", patient)
	p.Type("#reason", "Matter 2026-117")
	p.Click(`#hold-form button[type=submit]`)
	p.WantPath("/admin/retention")
	p.Open("/admin/users")
	user := Eval[string](p, `(document.querySelector("select[id^=role-]")||{id:""}).id.replace("role-","")`)

	pages := []string{
		"/", "/stories", "/stories/new?patient=" + patient, "/stories/choose-patient?for=new&q=an", "/stories?patient=" + patient, "/stories/" + story, "/stories/" + story + "/edit", "/stories/" + story + "/history",
		"/stories/" + story + "/media", "/stories/" + story + "/consent", "/stories/" + story + "/consent/paper", "/stories/" + story + "/publish",
		"/stories/" + story + "/comments",
		"/patients", "/patients/new", "/patients/" + patient, "/patients/" + patient + "/edit", "/patients/" + patient + "/interviews/new",
		"/interviews", "/inbox", "/publishing",
		"/admin/users", "/admin/users/new", "/admin/audit", "/admin/jobs", "/admin/retention", "/admin/settings", "/admin/channels",
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
	link := invitationRe.FindStringSubmatch(mailbox.Last(t).Text)
	if link == nil {
		t.Fatal("no invitation link was emailed to the reviewer")
	}
	r := b.NewPage("reviewer")
	r.Open(link[1])
	r.Type("#password", "a long reviewer passphrase")
	r.Type("#confirm", "a long reviewer passphrase")
	r.Click(`main form button[type=submit]`)
	r.WantPath("/account/2fa")
	r.Open("/stories/" + story + "/review")
	r.CheckA11y()
}
