package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

func patientValues(email, dob, preferred string) url.Values {
	return url.Values{"full_name": {"María López"}, "preferred_name": {preferred}, "dob": {dob},
		"email": {email}, "language": {"es"}}
}

// TestF10PatientDetailsCannotHijackConsent: another storyteller can no
// longer redirect a live consent request by editing the patient's email or
// date of birth; when an entitled editor (the story's owner, an admin)
// changes them, the patient's live requests are cancelled, the request's
// sender and the story's owner are told in their inbox, and it is audited.
func TestF10PatientDetailsCannotHijackConsent(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	stranger, _ := e.SignedIn(models.RoleStoryteller)

	// The attack of finding F10: refused, and nothing changes.
	stranger.Post("/patients/"+e.patient, patientValues("attacker@evil.test", "1984-07-21", "María")).Expect(http.StatusForbidden)
	stranger.Post("/patients/"+e.patient, patientValues("maria@example.org", "1970-05-05", "María")).Expect(http.StatusForbidden)
	d, err := e.App.Patients.View(audit.WithActor(context.Background(), audit.System), e.patient, "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Email != "maria@example.org" || d.DOB != "1984-07-21" {
		t.Fatalf("a stranger changed the patient: %q %q", d.Email, d.DOB)
	}
	e.Client().Get(path).Expect(http.StatusOK) // the request is still live
	// Details that do not reach the consent stay editable by the role.
	stranger.Post("/patients/"+e.patient, patientValues("maria@example.org", "1984-07-21", "Mari")).Expect(http.StatusSeeOther)
	e.Client().Get(path).Expect(http.StatusOK)

	// The owner corrects the email: the live request ends and is reported.
	e.staff.Post("/patients/"+e.patient, patientValues("maria.lopez@example.org", "1984-07-21", "Mari")).Expect(http.StatusSeeOther)
	var r models.ConsentRequest
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RequestCancelled {
		t.Fatalf("request is %s after the patient's email changed, want cancelled", r.Status)
	}
	if res := e.Client().Get(path); res.Status == http.StatusOK {
		t.Fatal("the old link still opens the request")
	}
	count := func(model any, q string, args ...any) int64 {
		var n int64
		if err := e.App.DB.Model(model).Where(q, args...).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(&models.Notification{}, "user_id = ? AND kind = ?", e.owner.ID, consent.NotifyPatientChanged); n != 1 {
		t.Fatalf("%d notifications to the request's owner, want 1", n)
	}
	if n := count(&models.AuditEntry{}, "action = ? AND object_id = ?", "patient.contact_change", e.patient); n != 1 {
		t.Fatalf("%d patient.contact_change audit entries, want 1", n)
	}
	if n := count(&models.AuditEntry{}, "action = ? AND object_id = ?", "consent.cancel", r.ID); n != 1 {
		t.Fatalf("%d consent.cancel audit entries, want 1", n)
	}
	e.staff.Get("/inbox").Expect(http.StatusOK).Contains("date of birth, email or phone changed")

	// An admin is entitled to every patient; a reviewer edits no patient.
	admin, _ := e.SignedIn(models.RoleAdmin)
	admin.Post("/patients/"+e.patient, patientValues("maria.lopez@example.org", "1984-07-22", "Mari")).Expect(http.StatusSeeOther)
	reviewer, _ := e.SignedIn(models.RoleReviewer)
	reviewer.Post("/patients/"+e.patient, patientValues("x@evil.test", "1984-07-22", "Mari")).Expect(http.StatusForbidden)

	// A patient without a story: whoever added them may still correct them.
	res := stranger.Post("/patients", patientValues("ana@example.org", "1990-01-01", "Ana")).Expect(http.StatusSeeOther)
	mine := res.Location()
	stranger.Post(mine, patientValues("ana.b@example.org", "1990-01-01", "Ana")).Expect(http.StatusSeeOther)
	e.staff.Post(mine, patientValues("evil@evil.test", "1990-01-01", "Ana")).Expect(http.StatusForbidden)
}
