package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
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
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
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
	rv := e.Client()
	verifyDOB(rv, u.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	rv.Post(u.Path, url.Values{"reason": {"Cambié de opinión"}}).Expect(http.StatusOK).Contains("Su permiso está cancelado")
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
	// Opening the story (it names the patient) is audited, with who opened it.
	var views []models.AuditEntry
	e.App.DB.Where("action = ? AND object_id = ?", "story.view", e.story).Find(&views)
	if len(views) != 1 || views[0].ActorID != e.owner.ID || !strings.Contains(views[0].Details, e.patient) {
		t.Fatalf("story view audit %+v", views)
	}
}

// TestDoneWhenReviewPublishRevoke is issue 6's "done when": a consented
// story with a photo is reviewed and approved for the website, Mastodon and
// a webhook (LinkedIn); it appears on the public site and feed and is
// delivered to both channels with the right text, photo and alt text; the
// patient revokes, the page answers 410, the Mastodon post is deleted and
// the webhook hears "unpublish"; every step is in the audit log.
func TestDoneWhenReviewPublishRevoke(t *testing.T) {
	e := newConsentEnv(t)
	masto := exporttest.NewMastodon(t)
	hook := exporttest.NewWebhookReceiver(t, "whsec", 200)
	admin, _ := e.SignedIn(models.RoleAdmin)
	admin.Post("/admin/channels/mastodon", url.Values{"method": {"mastodon"}, "url": {masto.URL}, "secret": {"tok"}, "enabled": {"1"}}).Expect(http.StatusSeeOther)
	admin.Post("/admin/channels/linkedin", url.Values{"method": {"webhook"}, "url": {hook.URL}, "secret": {"whsec"}, "enabled": {"1"}}).Expect(http.StatusSeeOther)

	chans := []string{"website", "mastodon", "linkedin"}
	form := storyForm(e.patient, e.owner.ID, "María vuelve a caminar")
	form["channels"] = chans
	form.Set("copy-mastodon", "María vuelve a caminar.")
	form.Set("copy-linkedin", "María vuelve a caminar tras la cirugía.")
	e.story = createStory(t, e.staff, form)
	photo := addPhoto(t, e.Env, e.story, e.owner.ID, "María en el jardín del hospital")
	res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": chans, "media": {photo},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
	link, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	e.runJobs(t)
	p := e.Client()
	verifyDOB(p, link.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	sign := signForm()
	sign["channels"], sign["media"] = chans, []string{photo}
	confirmSign(p, link.Path, sign).Expect(http.StatusOK)
	e.runJobs(t)
	certMail := e.smtp.Last(t)

	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	reviewer, _ := e.SignedIn(models.RoleReviewer)
	review := reviewer.Get("/stories/" + e.story + "/review").Expect(http.StatusOK)
	if got := review.Text("#review-media-" + photo); !strings.Contains(got, "Consented") {
		t.Errorf("the consented photo is not shown as consented: %q", got)
	}
	ack := url.Values{"revision": {review.Doc.Find("input[name=revision]").AttrOr("value", "1")}}
	review.Doc.Find("input[name=finding]").Each(func(_ int, in *goquery.Selection) { ack.Add("finding", in.AttrOr("value", "")) })
	if len(ack["finding"]) > 0 {
		reviewer.Post("/stories/"+e.story+"/phi-ack", ack).Expect(http.StatusSeeOther)
	}
	reviewer.Post("/stories/"+e.story+"/approve", url.Values{"revision": ack["revision"], "channel": chans}).Expect(http.StatusSeeOther)
	publisher, _ := e.SignedIn(models.RolePublisher)
	publisher.Post("/stories/"+e.story+"/publish", url.Values{"channel": {"mastodon", "linkedin"}, "when": {"now"}}).Expect(http.StatusSeeOther)
	e.runJobs(t)

	masto.Mu.Lock()
	posted, alts := len(masto.Statuses), strings.Join(slices.Collect(maps.Values(masto.Media)), "|")
	var text string
	for _, s := range masto.Statuses {
		text = s
	}
	masto.Mu.Unlock()
	if posted != 1 || !strings.Contains(text, "María vuelve a caminar.") || strings.Contains(text, "López") || alts != "María en el jardín del hospital" {
		t.Fatalf("mastodon received %d statuses: %q, media alt %q", posted, text, alts)
	}
	if hook.Count() != 1 {
		t.Fatalf("webhook received %d events", hook.Count())
	}
	got := hook.Got[0]
	media, _ := got["media"].([]any)
	if got["event"] != "publish" || got["channel"] != "linkedin" || !strings.Contains(got["text"].(string), "tras la cirugía") || len(media) != 1 ||
		media[0].(map[string]any)["alt_text"] != "María en el jardín del hospital" {
		t.Fatalf("webhook payload %v", got)
	}
	var pub models.WebsitePublication
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&pub).Error; err != nil {
		t.Fatalf("no website publication: %v", err)
	}
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusOK)
	e.Client().Get("/feed.atom").Expect(http.StatusOK).Contains("/p/" + pub.Slug)

	revoke, _ := url.Parse(linkRE.FindString(strings.ReplaceAll(certMail.Text, "\n", " ")))
	rv := e.Client()
	verifyDOB(rv, revoke.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	rv.Post(revoke.Path, nil).Expect(http.StatusOK).Contains("Su permiso está cancelado")
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusGone)
	e.runJobs(t)
	masto.Mu.Lock()
	left := len(masto.Statuses)
	masto.Mu.Unlock()
	if left != 0 {
		t.Fatalf("the Mastodon post was not deleted after revocation (%d left)", left)
	}
	if hook.Count() != 2 || hook.Got[1]["event"] != "unpublish" {
		t.Fatalf("the webhook was not told to unpublish: %v", hook.Got)
	}
	var rec models.ConsentRecord
	e.App.DB.Where("story_id = ?", e.story).Take(&rec)
	for _, a := range [][2]string{{"story.transition", e.story}, {"website.publish", e.story}, {"delivery.schedule", e.story}, {"delivery.sent", e.story},
		{"consent.revoked", rec.ID}, {"website.withdraw", e.story}, {"delivery.deleted", e.story}} {
		var n int64
		e.App.DB.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", a[0], a[1]).Count(&n)
		if n == 0 {
			t.Errorf("no %s in the audit log", a[0])
		}
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
