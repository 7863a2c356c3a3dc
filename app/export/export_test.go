package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) {
	if os.Getenv(replicaEnv) == "1" {
		os.Exit(runReplica()) // a replica process of BenchmarkDeliveryLoad
	}
	dbtest.Main(m)
}

// gate is a consent gate the test controls: channels in scope, or revoked.
type gate struct {
	mu      sync.Mutex
	scope   map[string]bool
	revoked bool
	calls   int
}

func (g *gate) Allowed(_ context.Context, _, channel string, _ []string, _ string) (bool, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.revoked {
		return false, "The patient revoked consent.", nil
	}
	if !g.scope[channel] {
		return false, "The patient did not consent to publishing on " + channel + ".", nil
	}
	return true, "", nil
}

func (g *gate) NameUsage(context.Context, string) (string, error) { return "full", nil }

type fixture struct {
	env       *apptest.Env
	ctx       context.Context
	svc       *export.Service
	gate      *gate
	story     *models.Story
	publisher workflow.Actor
}

// setup makes an approved story for chans with the given copy and one
// photo with its renditions, and a gate allowing every channel.
func setup(t *testing.T, copy map[string]string) *fixture {
	t.Helper()
	env := apptest.New(t)
	ctx := audit.WithActor(context.Background(), audit.System)
	owner, _ := env.CreateUser(models.RoleStoryteller)
	pub, _ := env.CreateUser(models.RolePublisher)
	now := time.Now().UTC()
	p := models.Patient{ID: uuid.Must(uuid.NewV7()).String(), FullName: "Maria Lopez", PreferredName: "Maria", PreferredLanguage: "en", CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := env.App.DB.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	var chans []string
	for k := range copy {
		chans = append(chans, k)
	}
	st, err := env.App.Stories.Create(ctx, stories.Actor{UserID: owner.ID, Role: models.RoleStoryteller}, stories.Input{
		Title: "Maria walks again", Summary: "Summary.", Body: "Maria walked again.", Channels: chans, Copy: copy, OwnerID: owner.ID, PatientID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	env.MarkApproved(t, st.ID)
	addPhoto(t, env, st.ID, owner.ID)
	st, _ = env.App.Stories.Get(ctx, st.ID)
	g := &gate{scope: map[string]bool{}}
	for _, c := range chans {
		g.scope[c] = true
	}
	// Legal's approval wraps the (fake) consent, as in production.
	env.App.Export.Gate = stories.ApprovalGate{Consent: g, Stories: env.App.Stories}
	env.App.Jobs.Backoff = func(int) time.Duration { return 0 }
	return &fixture{env: env, ctx: ctx, svc: env.App.Export, gate: g, story: st, publisher: workflow.Actor{UserID: pub.ID, Role: models.RolePublisher}}
}

func addPhoto(t *testing.T, env *apptest.Env, storyID, by string) {
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 16, 9)), nil)
	id := uuid.Must(uuid.NewV7()).String()
	now := time.Now().UTC()
	a := models.MediaAsset{ID: id, OwnerType: models.OwnerStory, OwnerID: storyID, Kind: "image", ContentType: "image/jpeg", StorageKey: "media/test/" + id,
		AltText: "Maria on the hospital stairs", RenditionsState: "ready", UploadedBy: by, CreatedAt: now, UpdatedAt: now, Width: 16, Height: 9}
	if err := env.App.DB.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x", "opengraph", "instagram-portrait"} {
		key := "media/test/" + id + "/" + name
		if _, err := env.App.Store.Put(context.Background(), key, bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image/jpeg"); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		if err := env.App.DB.Create(&models.MediaRendition{AssetID: id, Name: name, StorageKey: key, Width: 16, Height: 9, SHA256: hex.EncodeToString(sum[:]), CreatedAt: now}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) account(t *testing.T, channel string, in export.AccountInput) {
	t.Helper()
	in.Enabled = true
	if err := f.svc.SaveAccount(f.ctx, "admin", channel, in); err != nil {
		t.Fatal(err)
	}
}

// drain runs every due job.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	for i := 0; i < 50; i++ {
		ran, err := f.env.App.Jobs.RunOnce(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

func (f *fixture) delivery(t *testing.T, channel string) models.Delivery {
	t.Helper()
	var d models.Delivery
	if err := f.env.App.DB.Where("story_id = ? AND channel = ?", f.story.ID, channel).Take(&d).Error; err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) audited(t *testing.T, action string) bool {
	var n int64
	f.env.App.DB.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", action, f.story.ID).Count(&n)
	return n > 0
}

func TestWebhookSignedThenReceiverDownGoesToDeadLetter(t *testing.T) {
	f := setup(t, map[string]string{"linkedin": "Maria walks again."})
	down := exporttest.NewWebhookReceiver(t, "s3cret", http.StatusServiceUnavailable)
	f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: down.URL, Secret: "s3cret"})
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if down.Count() != 8 || down.BadSig != 0 {
		t.Fatalf("attempts %d (want 8), bad signatures %d", down.Count(), down.BadSig)
	}
	p := down.Got[0]
	if p["event"] != "publish" || p["story_id"] != f.story.ID || p["channel"] != "linkedin" || !strings.HasPrefix(p["link"].(string), f.env.App.Config.PublicURL+"/s/") ||
		!strings.Contains(p["text"].(string), "Maria walks again.") || p["idempotency_key"] == "" {
		t.Fatalf("payload %v", p)
	}
	m := p["media"].([]any)[0].(map[string]any)
	if m["alt_text"] != "Maria on the hospital stairs" || !strings.Contains(m["url"].(string), "/m/") {
		t.Fatalf("media %v", m)
	}
	if d := f.delivery(t, "linkedin"); d.State != models.DeliveryFailed || !strings.Contains(d.LastError, "503") {
		t.Fatalf("delivery %s %q", d.State, d.LastError)
	}
	admin, _ := f.env.SignedIn(models.RoleAdmin)
	admin.Get("/admin/jobs").Expect(http.StatusOK).Contains(export.JobDeliver).Contains("HTTP 503")

	// The receiver is back: retry from the panel's service call succeeds.
	down.Statuses = []int{200}
	if _, err := f.svc.Retry(f.ctx, f.delivery(t, "linkedin").ID); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if d := f.delivery(t, "linkedin"); d.State != models.DeliverySent || d.ExternalID != "buf-1" {
		t.Fatalf("after retry %s %q", d.State, d.LastError)
	}
	// Every attempt carried the one short link made at the first: clicks
	// add up under one code (the later attempts find it stored).
	for i, got := range down.Got {
		if got["link"] != p["link"] {
			t.Fatalf("attempt %d linked %v, the first %v", i+1, got["link"], p["link"])
		}
	}
}

func TestWebhookClientErrorIsPermanent(t *testing.T) {
	f := setup(t, map[string]string{"facebook": "Hello."})
	r := exporttest.NewWebhookReceiver(t, "s3cret", http.StatusBadRequest)
	f.account(t, "facebook", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"facebook"}, time.Time{})
	f.drain(t)
	if r.Count() != 1 || f.delivery(t, "facebook").State != models.DeliveryFailed {
		t.Fatalf("a 400 must not be retried: %d calls", r.Count())
	}
}

func TestMastodon429HonoursRetryAfterThenPostsOnce(t *testing.T) {
	f := setup(t, map[string]string{"mastodon": "Maria walks again."})
	m := exporttest.NewMastodon(t)
	m.RateLimited = 1
	f.account(t, "mastodon", export.AccountInput{Method: models.MethodMastodon, URL: m.URL, Secret: "tok"})
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"mastodon"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC()
	f.drain(t)
	d := f.delivery(t, "mastodon")
	var j models.Job
	f.env.App.DB.Where("id = ?", d.JobID).Take(&j)
	if d.State != models.DeliveryQueued || j.Status != models.JobPending || j.RunAt.Before(before.Add(110*time.Second)) || !strings.Contains(d.LastError, "429") {
		t.Fatalf("429 must wait for Retry-After: state %s, job %s at %s, err %q", d.State, j.Status, j.RunAt.Sub(before), d.LastError)
	}
	f.env.App.DB.Model(&j).Update("run_at", before)
	f.drain(t)
	d = f.delivery(t, "mastodon")
	if d.State != models.DeliverySent || d.ExternalURL != "https://mastodon.test/@hospital/1000" || len(m.Statuses) != 1 {
		t.Fatalf("sent %s %q %v", d.State, d.ExternalURL, m.Statuses)
	}
	if len(m.LastMedia) != 1 || m.Media[m.LastMedia[0]] != "Maria on the hospital stairs" || m.Polls < 2 {
		t.Fatalf("media %v %v polls %d", m.LastMedia, m.Media, m.Polls)
	}
	st, _ := f.env.App.Stories.Get(f.ctx, f.story.ID)
	if st.Stage != "published" {
		t.Fatalf("posting now must publish the story, stage %s", st.Stage)
	}
}

func TestMastodonLimitComesFromInstance(t *testing.T) {
	f := setup(t, map[string]string{"mastodon": strings.Repeat("a", 480)})
	m := exporttest.NewMastodon(t)
	f.account(t, "mastodon", export.AccountInput{Method: models.MethodMastodon, URL: m.URL, Secret: "tok"})
	pv, _ := f.svc.Previews(f.ctx, f.story.ID)
	if pv[0].Refusal == "" || pv[0].Post.Count != 480+2+23 {
		t.Fatalf("500: %+v", pv[0])
	}
	m2 := exporttest.NewMastodon(t)
	m2.MaxChars = 1000
	f.account(t, "mastodon", export.AccountInput{Method: models.MethodMastodon, URL: m2.URL, Secret: "tok"})
	pv, _ = f.svc.Previews(f.ctx, f.story.ID)
	if pv[0].Refusal != "" || pv[0].Post.Limit != 1000 {
		t.Fatalf("1000: %+v", pv[0])
	}
}

func TestTooLongIsRefusedBeforeSending(t *testing.T) {
	f := setup(t, map[string]string{"x": strings.Repeat("é", 270)})
	r := exporttest.NewWebhookReceiver(t, "s3cret", 200)
	f.account(t, "x", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	pv, err := f.svc.Previews(f.ctx, f.story.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "The X post is 295 characters (links count as 23); the limit is 280. Shorten it by 15."; pv[0].Refusal != want {
		t.Fatalf("refusal %q, want %q", pv[0].Refusal, want)
	}
	_, err = f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"x"}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "295") {
		t.Fatalf("schedule: %v", err)
	}
	f.drain(t)
	if r.Count() != 0 {
		t.Fatal("a refused post reached the receiver")
	}
}

func TestChannelOutsideConsentIsRefusedAndAudited(t *testing.T) {
	f := setup(t, map[string]string{"linkedin": "Hello.", "facebook": "Hello."})
	r := exporttest.NewWebhookReceiver(t, "s3cret", 200)
	f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	f.account(t, "facebook", export.AccountInput{Method: models.MethodWebhook, URL: r.URL, Secret: "s3cret"})
	f.gate.scope["facebook"] = false
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin", "facebook"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if r.Count() != 1 || r.Got[0]["channel"] != "linkedin" {
		t.Fatalf("only linkedin may be sent: %v", r.Got)
	}
	d := f.delivery(t, "facebook")
	if d.State != models.DeliveryCancelled || !strings.Contains(d.LastError, "did not consent to publishing on facebook") || !f.audited(t, "delivery.refused") {
		t.Fatalf("facebook: %s %q", d.State, d.LastError)
	}
}

func TestRevocationWhileQueuedIsNeverSent(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "Maria walks again."})
	pds := exporttest.NewPDS(t)
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass"})
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"bluesky"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.gate.revoked = true // consent revoked after scheduling, before sending
	f.env.App.DB.Model(&models.Job{}).Where("kind = ?", export.JobDeliver).Update("run_at", time.Now().UTC().Add(-time.Second))
	f.drain(t)
	if f.gate.calls == 0 {
		t.Fatal("the gate was not asked at send time")
	}
	if _, rec := pds.Only(); rec != nil {
		t.Fatal("a revoked story was posted")
	}
	if d := f.delivery(t, "bluesky"); d.State != models.DeliveryCancelled || !strings.Contains(d.LastError, "revoked") {
		t.Fatalf("%s %q", d.State, d.LastError)
	}
}

func TestBlueskyFacetsImagesRateLimitAndTakedown(t *testing.T) {
	f := setup(t, map[string]string{"bluesky": "Maria 🏃‍♀️ walks again — read more:"})
	pds := exporttest.NewPDS(t)
	pds.RateLimited = 1
	f.account(t, "bluesky", export.AccountInput{Method: models.MethodBluesky, URL: pds.URL, Handle: "hospital.bsky.social", Secret: "app-pass"})
	f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"bluesky"}, time.Time{})
	start := time.Now().UTC()
	f.drain(t)
	var j models.Job
	f.env.App.DB.Where("kind = ?", export.JobDeliver).Take(&j)
	if j.RunAt.Before(start.Add(9 * time.Minute)) {
		t.Fatalf("RateLimit-Reset not honoured: next run in %s", j.RunAt.Sub(start))
	}
	f.env.App.DB.Model(&j).Update("run_at", start)
	f.drain(t)
	rkey, rec := pds.Only()
	if rec == nil {
		t.Fatal("not posted")
	}
	text := rec["text"].(string)
	facet := rec["facets"].([]any)[0].(map[string]any)
	idx := facet["index"].(map[string]any)
	start2, end := int(idx["byteStart"].(float64)), int(idx["byteEnd"].(float64))
	uri := facet["features"].([]any)[0].(map[string]any)["uri"].(string)
	if text[start2:end] != uri || !strings.Contains(uri, "/s/") {
		t.Fatalf("facet bytes %d-%d of %q are not %q", start2, end, text, uri)
	}
	img := rec["embed"].(map[string]any)["images"].([]any)[0].(map[string]any)
	if img["alt"] != "Maria on the hospital stairs" {
		t.Fatalf("embed %v", img)
	}
	d := f.delivery(t, "bluesky")
	if d.ExternalID != "at://did:plc:hospital/app.bsky.feed.post/"+rkey || d.State != models.DeliverySent {
		t.Fatalf("%+v", d)
	}
	if err := f.svc.Takedown(f.ctx, f.story.ID, "consent revoked"); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if _, rec := pds.Only(); rec != nil || f.delivery(t, "bluesky").State != models.DeliveryDeleted {
		t.Fatal("not taken down")
	}
}

func TestTakedownOfAPostAlreadyGone(t *testing.T) {
	f := setup(t, map[string]string{"mastodon": "Hello.", "linkedin": "Hello."})
	m := exporttest.NewMastodon(t)
	f.account(t, "mastodon", export.AccountInput{Method: models.MethodMastodon, URL: m.URL, Secret: "tok"})
	f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"mastodon", "linkedin"}, time.Time{})
	f.drain(t)
	if f.delivery(t, "mastodon").State != models.DeliverySent || f.delivery(t, "linkedin").State != models.DeliverySent {
		t.Fatal("not sent")
	}
	m.Mu.Lock()
	m.Statuses = map[string]string{} // removed on the network by a moderator
	m.Mu.Unlock()
	if err := f.svc.Takedown(f.ctx, f.story.ID, "consent expired"); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if d := f.delivery(t, "mastodon"); d.State != models.DeliveryDeleted || d.TakedownReason != "consent expired" {
		t.Fatalf("mastodon %s %q", d.State, d.LastError)
	}
	if d := f.delivery(t, "linkedin"); d.State != models.DeliveryDeleted || !strings.Contains(d.LastError, "by hand") {
		t.Fatalf("bundle %s %q", d.State, d.LastError)
	}
	if !f.audited(t, "delivery.deleted") || !f.audited(t, "story.takedown") {
		t.Fatal("takedown not audited")
	}
}

// A takedown that arrives while the post is in flight (the receiver has it,
// the result is not recorded yet) is seen when the result is recorded: the
// post is deleted at once, not left up.
func TestTakedownArrivingWhileThePostIsInFlight(t *testing.T) {
	f := setup(t, map[string]string{"mastodon": "Hello."})
	var mu sync.Mutex
	var kinds []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		kinds = append(kinds, fmt.Sprint(p["type"]))
		first := len(kinds) == 1
		mu.Unlock()
		if first {
			// The patient revokes while the network holds the post.
			if err := f.svc.Takedown(f.ctx, f.story.ID, "consent revoked"); err != nil {
				t.Error(err)
			}
		}
		fmt.Fprint(w, `{"id":"remote-1"}`)
	}))
	defer srv.Close()
	f.account(t, "mastodon", export.AccountInput{Method: models.MethodWebhook, URL: srv.URL, Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	if _, err := f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"mastodon"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	d := f.delivery(t, "mastodon")
	mu.Lock()
	defer mu.Unlock()
	if len(kinds) != 2 || d.State != models.DeliveryDeleted || d.TakedownReason != "consent revoked" {
		t.Fatalf("requests %v, delivery %s %q (want the post, then its deletion)", kinds, d.State, d.LastError)
	}
}
