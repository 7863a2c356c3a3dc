package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

// TestF11InterviewsAreOwnerScoped replays finding F11: another storyteller
// can no longer read an interview's notes, overwrite them, cancel it, or
// download or delete its recording. Its owners (who runs and who scheduled
// it), the staff on the patient's stories and admins still can.
func TestF11InterviewsAreOwnerScoped(t *testing.T) {
	env := apptest.New(t)
	st2, me := env.SignedIn(models.RoleStoryteller)
	pid := createPatient(t, st2, patientForm())
	ivURL := st2.Post("/patients/"+pid+"/interviews", url.Values{"scheduled_at": {"2026-04-02T09:15"}, "interviewer": {me.ID},
		"location": {"Family room"}, "notes": {"patient disclosed HIV status"}}).Expect(http.StatusSeeOther).Location()
	ivID := strings.TrimPrefix(ivURL, "/interviews/")
	postFiles(t, env, st2, ivURL+"/media", []upload{{"photo.jpg", jpegFile(t)}}, "header").Expect(http.StatusOK)
	var rec models.MediaAsset
	if err := env.App.DB.Where("owner_id = ?", ivID).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}

	st1, _ := env.SignedIn(models.RoleStoryteller)
	if res := st1.Get(ivURL).Expect(http.StatusForbidden); strings.Contains(res.Body, "HIV") {
		t.Fatal("the refusal shows the notes")
	}
	st1.Post(ivURL+"/notes", url.Values{"notes": {"overwritten"}}).Expect(http.StatusForbidden)
	st1.Post(ivURL+"/status", url.Values{"status": {"cancelled"}}).Expect(http.StatusForbidden)
	st1.Get(ivURL + "/media").Expect(http.StatusForbidden)
	st1.Get("/media/" + rec.ID + "/file").Expect(http.StatusForbidden)
	st1.Post("/media/"+rec.ID+"/delete", nil).Expect(http.StatusForbidden)
	postFiles(t, env, st1, ivURL+"/media", []upload{{"x.jpg", jpegFile(t)}}, "header").Expect(http.StatusForbidden)
	var iv models.Interview
	env.App.DB.Where("id = ?", ivID).Take(&iv)
	var n int64
	env.App.DB.Model(&models.MediaAsset{}).Where("owner_id = ?", ivID).Count(&n)
	if iv.Notes != "patient disclosed HIV status" || iv.Status != models.InterviewScheduled || n != 1 {
		t.Fatalf("a stranger changed the interview: notes %q, status %s, %d recordings", iv.Notes, iv.Status, n)
	}

	// A storyteller on one of the patient's stories works with it, as a collaborator.
	story := createStory(t, st2, storyForm(pid, me.ID, "Walking again"))
	collab, cu := env.SignedIn(models.RoleStoryteller)
	if err := env.App.DB.Create(&models.StoryCollaborator{StoryID: story, UserID: cu.ID}).Error; err != nil {
		t.Fatal(err)
	}
	collab.Get(ivURL).Expect(http.StatusOK).Contains("HIV")
	collab.Get("/media/" + rec.ID + "/file").Expect(http.StatusOK)
	st1.Get(ivURL).Expect(http.StatusForbidden)

	// The owner and an admin keep every right; a reviewer still none.
	admin, _ := env.SignedIn(models.RoleAdmin)
	admin.Get(ivURL).Expect(http.StatusOK).Contains("HIV")
	admin.Post(ivURL+"/notes", url.Values{"notes": {"admin note"}}).Expect(http.StatusSeeOther)
	st2.Post(ivURL+"/status", url.Values{"status": {"completed"}}).Expect(http.StatusSeeOther)
	st2.Get("/media/" + rec.ID + "/file").Expect(http.StatusOK)
	st2.Post("/media/"+rec.ID+"/delete", nil).Expect(http.StatusSeeOther)
	reviewer, _ := env.SignedIn(models.RoleReviewer)
	reviewer.Get(ivURL).Expect(http.StatusForbidden)
}
