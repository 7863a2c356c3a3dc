package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

// TestReviewScreenAndPartialApproval: the reviewer sees the consent's scope,
// each photo with its alt text and consent status, and each channel's post;
// approves X only, not before an embargo; publishing before the embargo is
// refused, and the website, not approved, gets no page.
func TestReviewScreenAndPartialApproval(t *testing.T) {
	e := newConsentEnv(t)
	photo := addPhoto(t, e.Env, e.story, e.owner.ID, "María on the garden path")
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)

	reviewer, _ := e.SignedIn(models.RoleReviewer)
	review := reviewer.Get("/stories/" + e.story + "/review").Expect(http.StatusOK)
	if got := review.Text("#consent-channels"); !strings.Contains(got, "Website") || !strings.Contains(got, "X") {
		t.Errorf("consented channels %q", got)
	}
	if got := review.Text("#consent-name"); got != "First name only" {
		t.Errorf("name usage %q", got)
	}
	if got := review.Text("#review-media-" + photo); !strings.Contains(got, "María on the garden path") || !strings.Contains(got, "Not in the consent") {
		t.Errorf("photo on the review screen %q", got)
	}
	if got := review.Text("#review-preview-x p.pre"); !strings.Contains(got, "Maria walks again") {
		t.Errorf("X preview %q", got)
	}
	if review.Doc.Find("#review-preview-website").Length() != 1 {
		t.Error("no website preview")
	}
	if n := review.Doc.Find("#approve-form input[name=channel][checked]").Length(); n != 2 {
		t.Errorf("%d channels ticked, want the 2 consented", n)
	}
	rev := review.Doc.Find("#approve-form input[name=revision]").AttrOr("value", "")

	// Bad decisions change nothing.
	approve := func(v url.Values) *apptest.Resp {
		v.Set("revision", rev)
		return reviewer.Post("/stories/"+e.story+"/approve", v)
	}
	approve(url.Values{}).Expect(http.StatusUnprocessableEntity).Contains("Choose at least one channel")
	approve(url.Values{"channel": {"mastodon"}}).Expect(http.StatusUnprocessableEntity).Contains("is not one of this story")
	approve(url.Values{"channel": {"x"}, "not_before": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}}).Expect(http.StatusUnprocessableEntity).Contains("has already passed")
	approve(url.Values{"channel": {"x"}, "not_before": {"next tuesday"}}).Expect(http.StatusUnprocessableEntity).Contains("YYYY-MM-DD HH:MM")
	reviewer.Post("/stories/"+e.story+"/transition", url.Values{"to": {"changes_requested"}}).Expect(http.StatusUnprocessableEntity).Contains("Say what needs to change")
	reviewer.Post("/stories/"+e.story+"/transition", url.Values{"to": {"archived"}}).Expect(http.StatusUnprocessableEntity).Contains("reason for rejecting")
	if s := e.stage(t); s != "in_review" {
		t.Fatalf("stage after refused decisions %s", s)
	}

	ack := url.Values{"revision": {rev}}
	review.Doc.Find("input[name=finding]").Each(func(_ int, in *goquery.Selection) { ack.Add("finding", in.AttrOr("value", "")) })
	if len(ack["finding"]) > 0 {
		reviewer.Post("/stories/"+e.story+"/phi-ack", ack).Expect(http.StatusSeeOther)
	}
	embargo := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Minute)
	approve(url.Values{"channel": {"x"}, "not_before": {embargo.Format("2006-01-02T15:04")}}).Expect(http.StatusSeeOther)
	ap, err := e.App.Stories.Approval(t.Context(), e.story)
	if err != nil || ap == nil {
		t.Fatalf("no approval recorded: %v", err)
	}
	if strings.Join(ap.Channels, ",") != "x" || ap.NotBefore == nil || !ap.NotBefore.Equal(embargo) {
		t.Fatalf("approval %v not before %v, want x not before %v", ap.Channels, ap.NotBefore, embargo)
	}
	var audited int64
	e.App.DB.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ? AND details LIKE ?", "story.transition", e.story, "%"+ap.ID+"%").Count(&audited)
	if audited != 1 {
		t.Fatal("the approval is not in the audit log")
	}
	reviewer.Get("/stories/" + e.story + "/review").Expect(http.StatusOK).Contains("to be published not before " + embargo.Format("2006-01-02 15:04"))

	publisher, _ := e.SignedIn(models.RolePublisher)
	panel := publisher.Get("/stories/" + e.story + "/publish").Expect(http.StatusOK)
	if got := panel.Text("#approval"); !strings.Contains(got, "approved X") || !strings.Contains(got, "not before "+embargo.Format("2006-01-02 15:04")) {
		t.Errorf("publication panel approval %q", got)
	}
	if v := panel.Doc.Find("#at").AttrOr("value", ""); v != embargo.Format("2006-01-02T15:04") {
		t.Errorf("schedule time not prefilled with the embargo: %q", v)
	}
	publisher.Post("/stories/"+e.story+"/transition", url.Values{"to": {"published"}}).Expect(http.StatusConflict).Contains("not before")
	e.App.DB.Model(&models.StoryApproval{}).Where("id = ?", ap.ID).Update("not_before", time.Now().UTC().Add(-time.Minute))
	publisher.Post("/stories/"+e.story+"/transition", url.Values{"to": {"published"}}).Expect(http.StatusSeeOther)
	var pages int64
	e.App.DB.Model(&models.WebsitePublication{}).Where("story_id = ?", e.story).Count(&pages)
	if pages != 0 {
		t.Fatal("the website got a page though legal approved X only")
	}
	if ok, reason, _ := e.App.Website.Gate.Allowed(t.Context(), e.story, "website", nil, "anonymous"); ok || !strings.Contains(reason, "for X only") {
		t.Fatalf("website gate: %v %q", ok, reason)
	}
}
