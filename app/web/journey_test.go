package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/app/mail/smtptest"
	"github.com/storykeep/storykeep/models"
)

// TestConsentReviewPublishRevoke walks the whole spine with the real consent
// gate: the patient consents to the website with first name only; the author
// cannot approve; a reviewer acknowledges the PHI findings and approves; the
// publisher publishes; the public page shows the first name and never the
// surname; the patient revokes and the page answers 410 at once.
func TestConsentReviewPublishRevoke(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	p.Post(path+"/sign", signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	revokeMail := e.smtp.Last(t)

	// The author may not approve their own story; a reviewer may.
	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"approved"}}).Expect(http.StatusForbidden)
	reviewer, _ := e.SignedIn(models.RoleReviewer)
	review := reviewer.Get("/stories/" + e.story + "/review").Expect(http.StatusOK)
	ack := url.Values{"revision": {review.Doc.Find("input[name=revision]").AttrOr("value", "1")}}
	review.Doc.Find("input[name=finding]").Each(func(_ int, in *goquery.Selection) { ack.Add("finding", in.AttrOr("value", "")) })
	if len(ack["finding"]) > 0 {
		reviewer.Post("/stories/"+e.story+"/phi-ack", ack).Expect(http.StatusSeeOther)
	}
	reviewer.Post("/stories/"+e.story+"/transition", url.Values{"to": {"approved"}}).Expect(http.StatusSeeOther)
	publisher, _ := e.SignedIn(models.RolePublisher)
	publisher.Post("/stories/"+e.story+"/transition", url.Values{"to": {"published"}}).Expect(http.StatusSeeOther)

	var pub models.WebsitePublication
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&pub).Error; err != nil {
		t.Fatalf("no website publication: %v", err)
	}
	page := e.Client().Get("/p/" + pub.Slug).Expect(http.StatusOK)
	page.Contains("María")
	if strings.Contains(page.Body, "López") || strings.Contains(page.Body, "Lopez") {
		t.Fatal("the public page shows the surname though the patient allowed first name only")
	}
	if !strings.Contains(e.Client().Get("/feed.atom").Expect(http.StatusOK).Body, "/p/"+pub.Slug) {
		t.Fatal("the published story is missing from the feed")
	}

	// Revocation takes the page down at once.
	revoke := linkRE.FindString(strings.ReplaceAll(revokeMail.Text, "\n", " "))
	u, _ := url.Parse(revoke)
	e.Client().Post(u.Path, url.Values{"reason": {"Cambié de opinión"}}).Expect(http.StatusOK)
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusGone)
	if strings.Contains(e.Client().Get("/feed.atom").Body, "/p/"+pub.Slug) {
		t.Fatal("a withdrawn story is still in the feed")
	}
	if st, _ := e.App.Stories.Get(context.Background(), e.story); st.Stage != "withdrawn" {
		t.Fatalf("stage after revocation = %s", st.Stage)
	}
}

func TestStoryPageLinksToMediaAndConsent(t *testing.T) {
	e := newConsentEnv(t)
	page := e.staff.Get("/stories/" + e.story).Expect(http.StatusOK)
	for _, href := range []string{"/stories/" + e.story + "/media", "/stories/" + e.story + "/consent", "/stories/" + e.story + "/publish"} {
		if page.Doc.Find(`a[href="`+href+`"]`).Length() != 1 {
			t.Errorf("story page lacks a link to %s", href)
		}
	}
}

// TestRevocationDeletesTheMastodonPost: a story consented for the website and
// Mastodon is published to both through the real gate; when the patient
// revokes, the public page answers 410 and the post is deleted from a local
// server speaking the Mastodon API.
func TestRevocationDeletesTheMastodonPost(t *testing.T) {
	e := newConsentEnv(t)
	masto := exporttest.NewMastodon(t)
	admin, _ := e.SignedIn(models.RoleAdmin)
	admin.Post("/admin/channels/mastodon", url.Values{"method": {"mastodon"}, "url": {masto.URL}, "secret": {"tok"}, "enabled": {"1"}}).Expect(http.StatusSeeOther)

	form := storyForm(e.patient, e.owner.ID, "María vuelve a caminar")
	form["channels"] = []string{"website", "mastodon"}
	form.Set("copy-mastodon", "María vuelve a caminar.")
	e.story = createStory(t, e.staff, form)
	res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "mastodon"},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
	link, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	e.runJobs(t)
	p := e.Client()
	verifyDOB(p, link.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	sign := signForm()
	sign["channels"] = []string{"website", "mastodon"}
	p.Post(link.Path+"/sign", sign).Expect(http.StatusOK)
	e.runJobs(t)
	certMail := e.smtp.Last(t)

	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	reviewer, _ := e.SignedIn(models.RoleReviewer)
	review := reviewer.Get("/stories/" + e.story + "/review")
	ack := url.Values{"revision": {review.Doc.Find("input[name=revision]").AttrOr("value", "1")}}
	review.Doc.Find("input[name=finding]").Each(func(_ int, in *goquery.Selection) { ack.Add("finding", in.AttrOr("value", "")) })
	if len(ack["finding"]) > 0 {
		reviewer.Post("/stories/"+e.story+"/phi-ack", ack).Expect(http.StatusSeeOther)
	}
	reviewer.Post("/stories/"+e.story+"/transition", url.Values{"to": {"approved"}}).Expect(http.StatusSeeOther)
	publisher, _ := e.SignedIn(models.RolePublisher)
	publisher.Post("/stories/"+e.story+"/publish", url.Values{"channel": {"mastodon"}, "when": {"now"}}).Expect(http.StatusSeeOther)
	e.runJobs(t)
	masto.Mu.Lock()
	posted := len(masto.Statuses)
	var text string
	for _, s := range masto.Statuses {
		text = s
	}
	masto.Mu.Unlock()
	if posted != 1 || !strings.Contains(text, "María") || strings.Contains(text, "López") {
		t.Fatalf("mastodon received %d statuses: %q", posted, text)
	}
	var pub models.WebsitePublication
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&pub).Error; err != nil {
		t.Fatalf("no website publication: %v", err)
	}
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusOK)

	revoke, _ := url.Parse(linkRE.FindString(strings.ReplaceAll(certMail.Text, "\n", " ")))
	e.Client().Post(revoke.Path, nil).Expect(http.StatusOK)
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusGone)
	e.runJobs(t)
	masto.Mu.Lock()
	left := len(masto.Statuses)
	masto.Mu.Unlock()
	if left != 0 {
		t.Fatalf("the Mastodon post was not deleted after revocation (%d left)", left)
	}
}

// TestHandOffNotifications: each hand-off reaches the inbox of whoever acts
// next, and a reviewer can reject a story (archived).
func TestHandOffNotifications(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	env := apptest.New(t, func(c *config.Config) {
		c.MailMode, c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.SMTPFrom = "smtp", srv.Host, srv.Port, "none", "stories@hospital.test"
	})
	owner, u := env.SignedIn(models.RoleStoryteller)
	reviewer, ru := env.SignedIn(models.RoleReviewer)
	id := createStory(t, owner, storyForm(addPatient(env, u.ID, "Maria Lopez"), u.ID, "Hand-offs"))
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"awaiting_consent"}}).Expect(http.StatusSeeOther)
	if _, err := env.App.Stories.Transition(t.Context(), storiesSystem, id, "consented", "", 0); err != nil {
		t.Fatal(err)
	}
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	for ran, err := env.App.Jobs.RunOnce(t.Context()); ran || err != nil; ran, err = env.App.Jobs.RunOnce(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
	}
	m := srv.Last(t)
	if !strings.Contains(m.To, ru.Email) || m.Subject != "Storykeep: A story is ready for your review" || !strings.Contains(m.Text, "/stories/"+id+"/review") {
		t.Fatalf("hand-off email to %q %q: %q", m.To, m.Subject, m.Text)
	}
	if strings.Contains(m.Text, "Maria") || strings.Contains(m.Text, "Hand-offs") {
		t.Fatalf("the hand-off email names the patient or the story: %q", m.Text)
	}
	reviewer.Get("/inbox").Expect(http.StatusOK).Contains("A story is ready for your review")
	reviewer.Post("/stories/"+id+"/transition", url.Values{"to": {"changes_requested"}, "note": {"Please check the date"}}).Expect(http.StatusSeeOther)
	owner.Get("/inbox").Expect(http.StatusOK).Contains("A reviewer asked for changes to your story")
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"drafting"}}).Expect(http.StatusSeeOther)
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"awaiting_consent"}}).Expect(http.StatusSeeOther)
	env.App.Stories.Transition(t.Context(), storiesSystem, id, "consented", "", 0)
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	reviewer.Post("/stories/"+id+"/transition", url.Values{"to": {"archived"}, "note": {"Not suitable"}}).Expect(http.StatusSeeOther)
	owner.Get("/inbox").Contains("Your story was archived")
	if st, _ := env.App.Stories.Get(t.Context(), id); st.Stage != "archived" {
		t.Fatalf("stage %s", st.Stage)
	}
}
