package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/models"
)

// BenchmarkCDNPurgeAfterWithdrawal measures, per op, the time from a
// committed withdrawal to the CDN (a local Cloudflare API) receiving the
// purge, with the job workers running as in production (lanes, 2-second
// poll when idle). Publishing each story is outside the timer.
//
//	go test ./app/web -run '^$' -bench CDNPurgeAfterWithdrawal -benchtime 10x
func BenchmarkCDNPurgeAfterWithdrawal(b *testing.B) {
	srv, mod := fakeCDN(b, "cloudflare")
	env := apptest.New(b, mod)
	withGate(env, website.NameFull)
	c, u := env.SignedIn(models.RoleStoryteller)
	publisher, _ := env.SignedIn(models.RolePublisher)
	patient := addPatient(env, u.ID, "Maria Lopez")
	env.App.Jobs.Start(2*time.Second, app.JobLanes(2)...)
	b.Cleanup(func() { _ = env.App.Jobs.Stop(context.Background()) })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := createStoryB(b, c, storyForm(patient, u.ID, "Maria Lopez walks again"))
		env.MarkApproved(b, id)
		if res := publisher.Post("/stories/"+id+"/transition", url.Values{"to": {"published"}}); res.Status != http.StatusSeeOther {
			b.Fatalf("publish: %d", res.Status)
		}
		before := len(srv.Calls())
		b.StartTimer()
		if _, err := env.App.Stories.Transition(context.Background(), storiesSystem, id, "withdrawn", "", 0); err != nil {
			b.Fatal(err)
		}
		for len(srv.Calls()) == before {
			time.Sleep(time.Millisecond)
		}
	}
}
