package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

// TestCommentsMentionsAndInbox: every staff role may comment on a story
// (publishers and reviewers included); an @mention lands in the inbox.
func TestCommentsMentionsAndInbox(t *testing.T) {
	env := apptest.New(t)
	author, _ := env.SignedIn(models.RolePublisher)
	sam, samUser := env.SignedIn(models.RoleReviewer)
	local := strings.Split(samUser.Email, "@")[0]
	teller, tu := env.SignedIn(models.RoleStoryteller)
	story := createStory(t, teller, storyForm(addPatient(env, tu.ID, "Maria Lopez"), tu.ID, "Comment story"))
	author.Post("/stories/01900000-0000-7000-8000-000000000001/comments", url.Values{"body": {"hello"}}).Expect(http.StatusNotFound)

	author.Post("/stories/"+story+"/comments", url.Values{"body": {strings.Repeat("a", 5001)}}).Expect(http.StatusUnprocessableEntity).
		Contains("A comment can be at most 5000 characters; this one has 5001.")
	res := author.Post("/stories/"+story+"/comments", url.Values{"body": {"  "}}).Expect(http.StatusUnprocessableEntity)
	if res.Doc.Find("#body").AttrOr("aria-describedby", "") != "body-hint body-error" {
		t.Fatal("comment error not linked to the field")
	}
	body := "Looks good @" + local + "\n<script>alert(1)</script>"
	res = author.Post("/stories/"+story+"/comments", url.Values{"body": {body}, "return": {"https://evil.example/"}}).Expect(http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/stories/"+story+"/comments#comment-") {
		t.Fatalf("redirect to %q", loc)
	}
	thread := author.Get("/stories/" + story + "/comments").Expect(http.StatusOK).Contains("Notified: Reviewer Person.")
	if got := thread.Doc.Find(".comment-body").Text(); got != body {
		t.Fatalf("body shown as %q", got)
	}
	if strings.Contains(thread.Body, "<script>alert") {
		t.Fatal("comment body not escaped")
	}
	inbox := sam.Get("/inbox").Expect(http.StatusOK).Contains("You have 1 unread notification.").Contains("Publisher Person mentioned you")
	form := inbox.Doc.Find(`form[action^="/inbox/"][action$="/read"]`)
	action, _ := form.Attr("action")
	author.Post(action, nil).Expect(http.StatusNotFound) // not the author's notification
	sam.Post(action, nil).Expect(http.StatusSeeOther)
	sam.Get("/inbox").Contains("You have no unread notifications.")
	// Every staff role may comment.
	for _, role := range models.Roles {
		c, _ := env.SignedIn(role)
		c.Post("/stories/"+story+"/comments", url.Values{"body": {"ok from " + role}, "return": {"/stories/" + story}}).Expect(http.StatusSeeOther)
	}
	if n := author.Get("/stories/" + story + "/comments").Doc.Find(".comment").Length(); n != 5 {
		t.Fatalf("%d comments", n)
	}
}
