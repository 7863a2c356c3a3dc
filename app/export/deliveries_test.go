package export_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/models"
)

// Finding (fault runs §3b): Admin → Jobs → Retry on a dead delivery job
// ended "done" and sent nothing. It must re-run the delivery.
func TestF3bAdminRetryOfDeadDeliveryJobSendsIt(t *testing.T) {
	f := setup(t, map[string]string{"linkedin": "Maria walks again."})
	r := exporttest.NewWebhookReceiver(t, "s3cret", http.StatusServiceUnavailable)
	f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	d := f.delivery(t, "linkedin")
	var j models.Job
	f.env.App.DB.Take(&j, "id = ?", d.JobID)
	if d.State != models.DeliveryFailed || j.Status != models.JobDead {
		t.Fatalf("delivery %s, job %s", d.State, j.Status)
	}
	r.Mu.Lock()
	r.Statuses = []int{200}
	r.Mu.Unlock()
	sent := r.Count()
	admin, _ := f.env.SignedIn(models.RoleAdmin)
	admin.Post("/admin/jobs/"+j.ID+"/retry", url.Values{}).Expect(http.StatusSeeOther)
	if got := f.delivery(t, "linkedin"); got.State != models.DeliveryQueued {
		t.Fatalf("after admin retry the delivery is %s, want queued", got.State)
	}
	f.drain(t)
	if got := f.delivery(t, "linkedin"); got.State != models.DeliverySent || r.Count() != sent+1 {
		t.Fatalf("admin retry: delivery %s, %d new requests", got.State, r.Count()-sent)
	}
	if !f.audited(t, "delivery.retry") {
		t.Fatal("retry not audited")
	}
}

// Finding (fault runs §3a): nobody could make a delivery waiting out its
// backoff try again sooner. The publisher's "Retry now" and the admin's
// both run it at once.
func TestF3aRetryNowForDeliveryWaitingOutBackoff(t *testing.T) {
	f := setup(t, map[string]string{"linkedin": "Maria walks again.", "facebook": "Maria walks again."})
	f.env.App.Jobs.Backoff = func(int) time.Duration { return time.Hour }
	r := exporttest.NewWebhookReceiver(t, "s3cret", http.StatusServiceUnavailable)
	for _, ch := range []string{"linkedin", "facebook"} {
		f.account(t, ch, export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	}
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin", "facebook"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	for _, ch := range []string{"linkedin", "facebook"} {
		if d := f.delivery(t, ch); d.State != models.DeliveryQueued || d.Attempts != 1 {
			t.Fatalf("%s: %s after %d attempts", ch, d.State, d.Attempts)
		}
	}
	r.Mu.Lock()
	r.Statuses = []int{200}
	r.Mu.Unlock()
	f.drain(t)
	if r.Count() != 2 {
		t.Fatalf("retried before the backoff: %d requests", r.Count())
	}
	// Publisher: the panel offers "Retry now".
	pub, _ := f.env.SignedIn(models.RolePublisher)
	li := f.delivery(t, "linkedin")
	pub.Get("/stories/" + f.story.ID + "/publish").Expect(http.StatusOK).Contains("Retry LinkedIn now")
	pub.Post("/deliveries/"+li.ID+"/retry", url.Values{}).Expect(http.StatusSeeOther)
	// Admin: the "Waiting to retry" list offers it too.
	fb := f.delivery(t, "facebook")
	admin, _ := f.env.SignedIn(models.RoleAdmin)
	admin.Get("/admin/jobs").Expect(http.StatusOK).Contains("Retry " + export.JobDeliver + " now")
	admin.Post("/admin/jobs/"+fb.JobID+"/retry", url.Values{}).Expect(http.StatusSeeOther)
	f.drain(t)
	for _, ch := range []string{"linkedin", "facebook"} {
		if d := f.delivery(t, ch); d.State != models.DeliverySent || d.Attempts != 2 {
			t.Fatalf("%s after retry now: %s, %d attempts", ch, d.State, d.Attempts)
		}
	}
	// Nothing to retry once sent.
	pub.Post("/deliveries/"+li.ID+"/retry", url.Values{}).Expect(http.StatusConflict)
}

// Finding (real servers §2): posting a channel again at the same revision
// answered 500 "record not found".
func TestF2PostingAgainAtSameRevisionIsNot500(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "Maria walks again.", "linkedin": "Maria walks again."})
	pds := exporttest.NewPDS(t)
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass"})
	r := exporttest.NewWebhookReceiver(t, "s3cret", http.StatusOK)
	f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	f.gate.scope["linkedin"] = false // refused at send time, never sent
	pub, _ := f.env.SignedIn(models.RolePublisher)
	post := func(want int, ch string) {
		t.Helper()
		pub.Post("/stories/"+f.story.ID+"/publish", url.Values{"channel": {ch}, "when": {"now"}}).Expect(want)
	}
	post(http.StatusSeeOther, "bluesky")
	post(http.StatusSeeOther, "linkedin")
	f.drain(t)
	post(http.StatusSeeOther, "bluesky") // a double click
	f.drain(t)
	var n int64
	f.env.App.DB.Model(&models.Delivery{}).Where("story_id = ?", f.story.ID).Count(&n)
	if _, rec := pds.Only(); rec == nil || n != 2 || f.delivery(t, "bluesky").State != models.DeliverySent {
		t.Fatalf("%d deliveries, bluesky %s", n, f.delivery(t, "bluesky").State)
	}
	// Refused, then consent widened: posting again sends it.
	if d := f.delivery(t, "linkedin"); d.State != models.DeliveryCancelled || r.Count() != 0 {
		t.Fatalf("linkedin %s", d.State)
	}
	f.gate.mu.Lock()
	f.gate.scope["linkedin"] = true
	f.gate.mu.Unlock()
	post(http.StatusSeeOther, "linkedin")
	f.drain(t)
	if d := f.delivery(t, "linkedin"); d.State != models.DeliverySent || r.Count() != 1 {
		t.Fatalf("linkedin after posting again: %s, %d received", d.State, r.Count())
	}
	// Taken down after sending: a clear 409, not a 500.
	if err := f.svc.Takedown(f.ctx, f.story.ID, "by mistake"); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	pub.Post("/stories/"+f.story.ID+"/publish", url.Values{"channel": {"bluesky"}, "when": {"now"}}).Expect(http.StatusConflict).Contains("new revision")
}
