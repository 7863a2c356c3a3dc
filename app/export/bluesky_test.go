package export_test

import (
	"errors"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/models"
)

// Findings (real servers §9, §10): a new session for every post and every
// delete (the PDS allows 30 sign-ins per 5 minutes), and langs always "en".
// The session is kept and renewed with its refresh token; langs follow the
// text.
func TestF10BlueskyReusesSessionAndF9LangsFromStory(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "María volvió a caminar después de su operación de cadera. Gracias al equipo de rehabilitación del hospital, hoy sube las escaleras sola."})
	pds := exporttest.NewPDS(t)
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass"})
	f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"bluesky"}, time.Time{})
	f.drain(t)
	if _, rec := pds.Only(); rec == nil {
		t.Fatal("not posted")
	}
	pds.Mu.Lock()
	langs := pds.Langs
	pds.Mu.Unlock()
	if len(langs) != 1 || langs[0] != "es" {
		t.Fatalf("langs %v, want [es]", langs)
	}
	pds.ExpireAccess() // hours later
	if err := f.svc.Takedown(f.ctx, f.story.ID, "consent revoked"); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if _, rec := pds.Only(); rec != nil {
		t.Fatal("not taken down")
	}
	pds.Mu.Lock()
	defer pds.Mu.Unlock()
	if pds.SignIns > 1 || pds.Refreshes != 1 {
		t.Fatalf("%d sign-ins and %d refreshes for a post and a delete; want at most 1 sign-in, 1 refresh", pds.SignIns, pds.Refreshes)
	}
}

// Finding (real servers §11): "@hospital.test" was accepted when the channel
// was saved and failed at send time with a permanent 401.
func TestF11BlueskyHandleValidatedWhenSaved(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "Hello."})
	pds := exporttest.NewPDS(t)
	if err := f.svc.SaveAccount(f.ctx, "admin", "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: " @Hospital.bsky.social", Secret: "app-pass", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var a models.ChannelAccount
	f.env.App.DB.Take(&a, "channel = ?", "bluesky")
	if a.Handle != "hospital.bsky.social" {
		t.Fatalf("stored handle %q", a.Handle)
	}
	for _, bad := range []string{"hospital bsky", "hospital", "@", "https://bsky.app/profile/x"} {
		err := f.svc.SaveAccount(f.ctx, "admin", "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: bad, Secret: "app-pass", Enabled: true})
		var fe export.FieldErrors
		if !errors.As(err, &fe) || fe["handle"] == "" {
			t.Errorf("handle %q accepted: %v", bad, err)
		}
	}
}
