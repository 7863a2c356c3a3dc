package export_test

import (
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/models"
)

// TestApprovedSubsetAndNotBefore: legal approved LinkedIn only, not before
// two hours from now. Facebook is refused; posting LinkedIn now is refused;
// scheduling it for after the embargo is queued, and when it goes out the
// story becomes published.
func TestApprovedSubsetAndNotBefore(t *testing.T) {
	f := setup(t, map[string]string{"linkedin": "Hello.", "facebook": "Hello."})
	r := exporttest.NewWebhookReceiver(t, "s3cret", 200)
	f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	f.account(t, "facebook", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	f.env.MarkApproved(t, f.story.ID, "linkedin")
	embargo := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Minute)
	if err := f.env.App.DB.Model(&models.StoryApproval{}).Where("story_id = ? AND id NOT IN (SELECT approval_id FROM story_approval_channels WHERE channel = 'facebook')", f.story.ID).
		Update("not_before", embargo).Error; err != nil {
		t.Fatal(err)
	}

	if previews, err := f.svc.Previews(f.ctx, f.story.ID); err != nil || len(previews) != 1 || previews[0].Channel != "linkedin" {
		t.Fatalf("previews should be LinkedIn only: %+v %v", previews, err)
	}
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"facebook"}, time.Time{}); err == nil || !strings.Contains(err.Error(), "did not approve the story for Facebook") {
		t.Fatalf("facebook was not refused: %v", err)
	}
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin"}, time.Time{}); err == nil || !strings.Contains(err.Error(), "approved publication from "+embargo.Format("2006-01-02 15:04")) {
		t.Fatalf("posting before the embargo was not refused: %v", err)
	}
	var n int64
	f.env.App.DB.Model(&models.Delivery{}).Where("story_id = ?", f.story.ID).Count(&n)
	if n != 0 {
		t.Fatalf("%d deliveries left behind by refusals", n)
	}
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin"}, embargo.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.env.App.Stories.Get(f.ctx, f.story.ID); st.Stage != "approved" {
		t.Fatalf("a scheduled post moved the story to %s before it went out", st.Stage)
	}

	// The embargo passes and the job comes due.
	past := time.Now().UTC().Add(-time.Minute)
	f.env.App.DB.Model(&models.StoryApproval{}).Where("story_id = ?", f.story.ID).Update("not_before", past)
	f.env.App.DB.Model(&models.Job{}).Where("kind = ?", export.JobDeliver).Update("run_at", past)
	f.drain(t)
	if r.Count() != 1 || r.Got[0]["channel"] != "linkedin" {
		t.Fatalf("want one LinkedIn post: %v", r.Got)
	}
	if st, _ := f.env.App.Stories.Get(f.ctx, f.story.ID); st.Stage != "published" {
		t.Fatalf("stage after the scheduled post %s, want published", st.Stage)
	}
}

// TestSendTimeGateAsksTheApproval: a delivery whose channel the approval of
// the current revision does not name is refused at send time.
func TestSendTimeGateAsksTheApproval(t *testing.T) {
	f := setup(t, map[string]string{"linkedin": "Hello."})
	r := exporttest.NewWebhookReceiver(t, "s3cret", 200)
	f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The approval is replaced by one without LinkedIn before the job runs.
	f.env.MarkApproved(t, f.story.ID, "website")
	f.env.App.DB.Model(&models.Job{}).Where("kind = ?", export.JobDeliver).Update("run_at", time.Now().UTC().Add(-time.Second))
	f.drain(t)
	if r.Count() != 0 {
		t.Fatal("a channel outside the approval was posted")
	}
	if d := f.delivery(t, "linkedin"); d.State != models.DeliveryCancelled || !strings.Contains(d.LastError, "Legal review approved this story for Website only") {
		t.Fatalf("%s %q", d.State, d.LastError)
	}
}
