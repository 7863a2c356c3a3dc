package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

func TestInterviewScheduleNotesAndStatus(t *testing.T) {
	env := apptest.New(t)
	teller, me := env.SignedIn(models.RoleStoryteller)
	pid := createPatient(t, teller, patientForm())
	form := teller.Get("/patients/" + pid + "/interviews/new").Expect(http.StatusOK)
	if form.Doc.Find(`#interviewer option[selected]`).AttrOr("value", "") != me.ID {
		t.Fatal("the signed-in storyteller should be the default interviewer")
	}
	res := teller.Post("/patients/"+pid+"/interviews", url.Values{"scheduled_at": {"soon"}, "interviewer": {me.ID}}).Expect(http.StatusUnprocessableEntity)
	res.Contains("Enter the date and time").Contains("Enter where the interview takes place")
	if res.Doc.Find("#scheduled_at").AttrOr("aria-describedby", "") != "scheduled_at-hint scheduled_at-error" {
		t.Fatal("error not linked to its field")
	}
	res = teller.Post("/patients/"+pid+"/interviews", url.Values{"scheduled_at": {"2026-04-02T09:15"}, "interviewer": {me.ID},
		"location": {"Family room, 3rd floor"}, "notes": {"Bring consent leaflet"}}).Expect(http.StatusSeeOther)
	ivURL := res.Location()
	page := teller.Get(ivURL).Expect(http.StatusOK).Contains("2026-04-02 09:15").Contains("Family room, 3rd floor")
	if page.Doc.Find(`a[href$="/media"]`).Length() != 1 {
		t.Fatal("interview page should link to its recordings")
	}
	// A story written from the interview starts with its patient and the interview chosen.
	write := page.Doc.Find(`a[href^="/stories/new?"]`).AttrOr("href", "")
	story := teller.Get(write).Expect(http.StatusOK)
	if story.Doc.Find("input[name=patient]").AttrOr("value", "") != pid || story.Doc.Find("#interview option[selected]").AttrOr("value", "") != strings.TrimPrefix(ivURL, "/interviews/") {
		t.Fatalf("story form from the interview (%q) must carry its patient and the interview", write)
	}
	teller.Get("/interviews").Expect(http.StatusOK).Contains("Dana Whitfield")
	teller.Get("/patients/" + pid).Contains("2026-04-02 09:15")

	teller.Post(ivURL+"/notes", url.Values{"notes": {strings.Repeat("x", 20001)}}).Expect(http.StatusUnprocessableEntity).Contains("at most 20000")
	teller.Post(ivURL+"/notes", url.Values{"notes": {"Line one\nLine two"}}).Expect(http.StatusSeeOther)
	if got := teller.Get(ivURL).Doc.Find("#notes").Text(); got != "Line one\nLine two" {
		t.Fatalf("notes: %q", got)
	}
	teller.Post(ivURL+"/status", url.Values{"status": {"completed"}}).Expect(http.StatusSeeOther)
	teller.Post(ivURL+"/status", url.Values{"status": {"cancelled"}}).Expect(http.StatusConflict).
		Contains("This interview is already completed; only a scheduled interview can be marked completed or cancelled.")
	teller.Post(ivURL+"/status", url.Values{"status": {"scheduled"}}).Expect(http.StatusUnprocessableEntity)
	var actions []string
	env.App.DB.Model(&models.AuditEntry{}).Where("object_type = 'interview'").Order("id").Pluck("action", &actions)
	if strings.Join(actions, ",") != "interview.schedule,interview.update_notes,interview.complete" {
		t.Fatalf("audit: %v", actions)
	}
	reviewer, _ := env.SignedIn(models.RoleReviewer)
	reviewer.Get(ivURL).Expect(http.StatusForbidden)
	if reviewer.Get("/patients/"+pid).Doc.Find(`a[href$="/interviews/new"]`).Length() != 0 {
		t.Fatal("reviewer offered scheduling")
	}
	teller.Get("/interviews/nope").Expect(http.StatusNotFound)
	teller.Get("/patients/nope/interviews/new").Expect(http.StatusNotFound)
}
