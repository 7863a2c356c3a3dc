package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

// TestMinimumNecessaryStoryListAndSearch (issue 20, "Also"): a storyteller
// lists and searches only the stories they own or collaborate on; a
// reviewer sees stories in review or later, a publisher approved or later;
// an admin everything.
func TestMinimumNecessaryStoryListAndSearch(t *testing.T) {
	env := apptest.New(t)
	st1, u1 := env.SignedIn(models.RoleStoryteller)
	st2, u2 := env.SignedIn(models.RoleStoryteller)
	mine := createStory(t, st1, storyForm(addPatient(env, u1.ID, "Ann Lee"), u1.ID, "Zebra mine drafting"))
	theirs := createStory(t, st2, storyForm(addPatient(env, u2.ID, "Bo Ray"), u2.ID, "Zebra theirs drafting"))
	shared := createStory(t, st2, storyForm(addPatient(env, u2.ID, "Cy Fox"), u2.ID, "Zebra shared drafting"))
	review := createStory(t, st2, storyForm(addPatient(env, u2.ID, "Di Moe"), u2.ID, "Zebra theirs in review"))
	approved := createStory(t, st2, storyForm(addPatient(env, u2.ID, "Ed Kim"), u2.ID, "Zebra theirs approved"))
	if err := env.App.DB.Create(&models.StoryCollaborator{StoryID: shared, UserID: u1.ID}).Error; err != nil {
		t.Fatal(err)
	}
	for id, stage := range map[string]string{review: "in_review", approved: "approved"} {
		if err := env.App.DB.Model(&models.Story{}).Where("id = ?", id).Update("stage", stage).Error; err != nil {
			t.Fatal(err)
		}
	}
	titles := map[string]string{mine: "Zebra mine drafting", theirs: "Zebra theirs drafting", shared: "Zebra shared drafting",
		review: "Zebra theirs in review", approved: "Zebra theirs approved"}
	check := func(who string, c *apptest.Client, want ...string) {
		t.Helper()
		for _, path := range []string{"/stories", "/stories?q=zebra", "/stories?stage=drafting", "/stories?stage=approved"} {
			body := c.Get(path).Expect(http.StatusOK).Text("main")
			for id, title := range titles {
				shown := strings.Contains(body, title)
				allowed := false
				for _, w := range want {
					allowed = allowed || w == id
				}
				if shown && !allowed {
					t.Errorf("%s sees %q on %s", who, title, path)
				}
				if !shown && allowed && path != "/stories?stage=drafting" && path != "/stories?stage=approved" {
					t.Errorf("%s does not see %q on %s", who, title, path)
				}
			}
		}
	}
	check("the storyteller", st1, mine, shared)
	reviewer, _ := env.SignedIn(models.RoleReviewer)
	check("the reviewer", reviewer, review, approved)
	publisher, _ := env.SignedIn(models.RolePublisher)
	check("the publisher", publisher, approved)
	admin, _ := env.SignedIn(models.RoleAdmin)
	check("the admin", admin, mine, theirs, shared, review, approved)
	if !strings.Contains(publisher.Get("/stories?stage=approved").Text("main"), "Zebra theirs approved") {
		t.Error("the publisher's stage filter lost an approved story")
	}
	if strings.Contains(publisher.Get("/stories?stage=in_review").Text("main"), "Zebra") {
		t.Error("the publisher filtered their way into review")
	}
}
