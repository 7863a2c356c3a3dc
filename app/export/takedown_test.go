package export_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/models"
)

// Finding (real servers §3): a takedown refused for credentials (401) was
// final, the post stayed up, and the Takedown button then did nothing.
// Now it stays open, listed and retried; after the admin fixes the app
// password, the Takedown button deletes the post.
func TestF3TakedownRefusedForCredentialsStaysOpenUntilItSucceeds(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "Maria walks again."})
	pds := exporttest.NewPDS(t)
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass"})
	f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"bluesky"}, time.Time{})
	f.drain(t)
	if _, rec := pds.Only(); rec == nil {
		t.Fatal("not posted")
	}
	f.env.App.Jobs.Backoff = func(int) time.Duration { return time.Hour }
	pds.Mu.Lock()
	pds.Password = "new-pass" // the app password was revoked on the network
	pds.Mu.Unlock()
	if err := f.svc.Takedown(f.ctx, f.story.ID, "consent revoked"); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	d := f.delivery(t, "bluesky")
	var j models.Job
	f.env.App.DB.Take(&j, "id = ?", d.DeleteJobID)
	if d.State != models.DeliverySent || !strings.Contains(d.LastError, "401") || j.Status != models.JobPending {
		t.Fatalf("after a 401: delivery %s %q, delete job %s", d.State, d.LastError, j.Status)
	}
	open, _ := f.svc.OpenTakedowns(f.ctx)
	if len(open) != 1 || open[0].ID != d.ID {
		t.Fatalf("open takedowns %v", open)
	}
	admin, _ := f.env.SignedIn(models.RoleAdmin)
	admin.Get("/admin/jobs").Expect(http.StatusOK).Contains("1 takedown(s) not done")
	pub, _ := f.env.SignedIn(models.RolePublisher)
	pub.Get("/publishing").Expect(http.StatusOK).Contains("1 takedown(s) not done")
	pub.Get("/stories/" + f.story.ID + "/publish").Expect(http.StatusOK).Contains("Takedown not done yet")

	// The admin saves the new app password; the publisher presses Takedown.
	pds.Mu.Lock()
	pds.Password = "app-pass-2"
	pds.Mu.Unlock()
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass-2"})
	pub.Post("/stories/"+f.story.ID+"/takedown", url.Values{"reason": {"consent revoked"}}).Expect(http.StatusSeeOther)
	f.drain(t)
	if _, rec := pds.Only(); rec != nil || f.delivery(t, "bluesky").State != models.DeliveryDeleted {
		t.Fatalf("the Takedown button did not delete the post: %s", f.delivery(t, "bluesky").State)
	}
	if open, _ := f.svc.OpenTakedowns(f.ctx); len(open) != 0 {
		t.Fatalf("still open: %v", open)
	}
}

// A takedown that cannot be done automatically closes only when a person
// confirms removing the post by hand; that is audited.
func TestF3TakedownConfirmedRemovedByHand(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "Maria walks again."})
	pds := exporttest.NewPDS(t)
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass"})
	f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"bluesky"}, time.Time{})
	f.drain(t)
	f.env.App.Jobs.Backoff = func(int) time.Duration { return time.Hour }
	pds.Mu.Lock()
	pds.Password = "revoked"
	pds.Mu.Unlock()
	f.svc.Takedown(f.ctx, f.story.ID, "consent revoked")
	f.drain(t)
	d := f.delivery(t, "bluesky")
	pub, _ := f.env.SignedIn(models.RolePublisher)
	pub.Post("/deliveries/"+d.ID+"/removed", url.Values{"note": {"deleted in the Bluesky app"}}).Expect(http.StatusSeeOther)
	d = f.delivery(t, "bluesky")
	var j models.Job
	f.env.App.DB.Take(&j, "id = ?", d.DeleteJobID)
	if d.State != models.DeliveryDeleted || j.Status != models.JobCancelled || !f.audited(t, "delivery.removed_by_hand") {
		t.Fatalf("delivery %s, delete job %s", d.State, j.Status)
	}
	pub.Post("/deliveries/"+d.ID+"/removed", url.Values{}).Expect(http.StatusConflict)
}
