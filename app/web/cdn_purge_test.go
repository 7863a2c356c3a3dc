package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/cdn"
	"github.com/storykeep/storykeep/app/cdn/cdntest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/models"
)

// fakeCDN starts a local server speaking provider's purge API and returns
// the config change that points Storykeep at it.
func fakeCDN(t testing.TB, provider string) (*cdntest.Server, func(*config.Config)) {
	var srv *cdntest.Server
	c := config.CDN{Provider: provider, SMaxAge: time.Minute, PurgeMethod: "POST"}
	switch provider {
	case "cloudflare":
		srv = cdntest.NewCloudflare(t, "zone-1", "cf-secret")
		c.ZoneID, c.APIToken, c.APIBase = "zone-1", "cf-secret", srv.Base
	case "fastly":
		srv = cdntest.NewFastly(t, "svc-1", "fastly-secret")
		c.ServiceID, c.APIToken, c.APIBase = "svc-1", "fastly-secret", srv.Base
	case "generic":
		srv = cdntest.NewGeneric(t, "POST", "gen-secret")
		c.PurgeURL, c.APIToken = srv.Base, "gen-secret"
	}
	return srv, func(cfg *config.Config) { cfg.CDN = c }
}

// runAllJobs runs every due job of env.
func runAllJobs(t *testing.T, env *apptest.Env) {
	t.Helper()
	for {
		ran, err := env.App.Jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

// publicAddresses are the addresses a CDN may hold for a published story:
// the page, every picture address it links (src, srcset, og/twitter image)
// and the lists that show it.
func publicAddresses(t *testing.T, env *apptest.Env, slug string, tags ...string) []string {
	t.Helper()
	base := env.App.Config.PublicURL
	c := env.Client()
	page := c.Get("/p/" + slug).Expect(http.StatusOK)
	out := []string{base + "/p/" + slug, base + "/p", base + "/feed.atom", base + "/feed.json", base + "/sitemap.xml"}
	for _, tag := range tags {
		out = append(out, base+"/p/tag/"+tag)
	}
	add := func(v string) {
		for _, part := range strings.Split(v, ",") {
			if f := strings.Fields(part); len(f) > 0 && strings.Contains(f[0], "/img/") {
				u := f[0]
				if strings.HasPrefix(u, "/") {
					u = base + u
				}
				out = append(out, u)
			}
		}
	}
	page.Doc.Find("img, source, meta").Each(func(_ int, s *goquery.Selection) {
		for _, a := range []string{"src", "srcset", "content"} {
			add(s.AttrOr(a, ""))
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}

func purgeJobs(t *testing.T, env *apptest.Env) []models.Job {
	t.Helper()
	var js []models.Job
	if err := env.App.DB.Where("kind = ?", cdn.JobPurge).Order("created_at").Find(&js).Error; err != nil {
		t.Fatal(err)
	}
	return js
}

func auditCount(t *testing.T, env *apptest.Env, action, storyID string) int64 {
	t.Helper()
	var n int64
	env.App.DB.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", action, storyID).Count(&n)
	return n
}

// noPatientDetails fails if any CDN audit entry or log line names the
// patient or their story's title.
func noPatientDetails(t *testing.T, env *apptest.Env, storyID string, words ...string) {
	t.Helper()
	var es []models.AuditEntry
	env.App.DB.Where("action LIKE ? AND object_id = ?", "cdn.%", storyID).Find(&es)
	if len(es) == 0 {
		t.Fatal("no CDN audit entries")
	}
	for _, e := range es {
		for _, w := range words {
			if strings.Contains(e.Details, w) {
				t.Fatalf("audit %s names %q: %s", e.Action, w, e.Details)
			}
		}
	}
	for _, w := range words {
		if strings.Contains(env.Logs.String(), w) {
			t.Fatalf("the log names %q", w)
		}
	}
}

// TestCDNPurgeOnWithdrawal: for each provider, a withdrawn story's page,
// every picture address its page linked, its tag pages, feeds, sitemap and
// index reach the CDN's purge API in that API's wire format, once the job
// the withdrawal queued (in its transaction) runs; success is audited. With
// Fastly the public responses carried the surrogate keys that are purged.
func TestCDNPurgeOnWithdrawal(t *testing.T) {
	for _, provider := range []string{"cloudflare", "fastly", "generic"} {
		t.Run(provider, func(t *testing.T) {
			srv, mod := fakeCDN(t, provider)
			env := apptest.New(t, mod)
			withGate(env, website.NameFull)
			id, _ := publishedStory(t, env)
			want := publicAddresses(t, env, "walks-again", "recovery", "surgery")
			if n := len(slices.DeleteFunc(slices.Clone(want), func(u string) bool { return !strings.Contains(u, "/img/") })); n != len(website.PublicRenditions) {
				t.Fatalf("the page links too few addresses to mean anything: %v", want)
			}
			c := env.Client()
			page := c.Get("/p/walks-again").Expect(http.StatusOK)
			img := page.Doc.Find("figure img").AttrOr("src", "")
			imgRes := c.Get(img).Expect(http.StatusOK)
			index := c.Get("/p").Expect(http.StatusOK)
			if provider == "fastly" {
				if page.Header.Get("Surrogate-Key") != cdn.StoryKey("walks-again") || imgRes.Header.Get("Surrogate-Key") != cdn.StoryKey("walks-again") ||
					index.Header.Get("Surrogate-Key") != cdn.ListsKey || c.Get("/feed.atom").Header.Get("Surrogate-Key") != cdn.ListsKey {
					t.Fatalf("surrogate keys: page %q, picture %q, index %q", page.Header.Get("Surrogate-Key"), imgRes.Header.Get("Surrogate-Key"), index.Header.Get("Surrogate-Key"))
				}
			} else if page.Header.Get("Surrogate-Key") != "" {
				t.Fatal("Surrogate-Key is Fastly's; no other CDN should get it")
			}
			if len(purgeJobs(t, env)) != 0 {
				t.Fatal("a purge was queued before anything was withdrawn")
			}

			if _, err := env.App.Stories.Transition(t.Context(), storiesSystem, id, "withdrawn", "", 0); err != nil {
				t.Fatal(err)
			}
			js := purgeJobs(t, env)
			if len(js) != 1 || auditCount(t, env, "cdn.purge_queued", id) != 1 {
				t.Fatalf("%d purge jobs queued by the withdrawal", len(js))
			}
			if len(srv.Calls()) != 0 {
				t.Fatal("the CDN was called inside the withdrawal's transaction")
			}
			runAllJobs(t, env)
			if p := srv.Problems(); len(p) > 0 {
				t.Fatalf("requests broke the %s API's rules: %q", provider, p)
			}
			urls, keys, prefixes := srv.Purged()
			switch provider {
			case "fastly":
				if !slices.Equal(keys, []string{cdn.ListsKey, cdn.StoryKey("walks-again")}) {
					t.Fatalf("purged keys %v", keys)
				}
			case "cloudflare":
				host := strings.TrimPrefix(strings.TrimPrefix(env.App.Config.PublicURL, "http://"), "https://")
				if !slices.Equal(prefixes, []string{host + "/p/walks-again"}) {
					t.Fatalf("purged prefixes %v", prefixes)
				}
				fallthrough
			default:
				for _, u := range want {
					if !slices.Contains(urls, u) {
						t.Errorf("%s not purged (purged: %v)", u, urls)
					}
				}
				for _, u := range urls {
					if !strings.HasPrefix(u, env.App.Config.PublicURL+"/") {
						t.Errorf("purged an address outside the site: %s", u)
					}
				}
			}
			if j := purgeJobs(t, env)[0]; j.Status != models.JobDone {
				t.Fatalf("purge job %s: %s", j.Status, j.LastError)
			}
			if auditCount(t, env, "cdn.purged", id) != 1 || auditCount(t, env, "cdn.purge_failed", id) != 0 {
				t.Fatal("the purge is not audited as done once")
			}
			noPatientDetails(t, env, id, "Maria", "Lopez", "walks again")
		})
	}
}

// TestCDNPurgeOnRevocation is the whole path with the real consent gate:
// the patient revokes through the link in their email, the story is
// withdrawn and, in the same transaction, the purge is queued; the job
// purges the page, its tag page, feeds, sitemap and index from the CDN.
func TestCDNPurgeOnRevocation(t *testing.T) {
	srv, mod := fakeCDN(t, "cloudflare")
	e := newConsentEnv(t, mod)
	slug, revokeMail := publishThroughConsent(t, e)
	before := publicAddresses(t, e.Env, slug)
	revokeThroughLink(t, e, revokeMail)
	if len(purgeJobs(t, e.Env)) != 1 {
		t.Fatal("the revocation queued no purge")
	}
	e.runJobs(t)
	urls, _, _ := srv.Purged()
	for _, u := range before {
		if !slices.Contains(urls, u) {
			t.Errorf("%s not purged after revocation (purged: %v)", u, urls)
		}
	}
	if auditCount(t, e.Env, "cdn.purged", e.story) != 1 {
		t.Fatal("the purge is not audited")
	}
	noPatientDetails(t, e.Env, e.story, "María", "López")
}

// TestCDNPurgeOnConsentExpiry: a consent that expires (the sweep) withdraws
// the story and purges it from the CDN like a revocation.
func TestCDNPurgeOnConsentExpiry(t *testing.T) {
	srv, mod := fakeCDN(t, "generic")
	e := newConsentEnv(t, mod)
	slug, _ := publishThroughConsent(t, e)
	before := publicAddresses(t, e.Env, slug)
	e.App.DB.Model(&models.ConsentRecord{}).Where("story_id = ?", e.story).Update("expires_on", time.Now().UTC().Add(-time.Hour))
	if err := e.App.Consent.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.App.Stories.Get(context.Background(), e.story); st.Stage != "withdrawn" || len(purgeJobs(t, e.Env)) != 1 {
		t.Fatalf("after expiry: stage %s, %d purge jobs", st.Stage, len(purgeJobs(t, e.Env)))
	}
	e.runJobs(t)
	urls, _, _ := srv.Purged()
	for _, u := range before {
		if !slices.Contains(urls, u) {
			t.Errorf("%s not purged after expiry (purged: %v)", u, urls)
		}
	}
	if auditCount(t, e.Env, "cdn.purged", e.story) != 1 {
		t.Fatal("the purge is not audited")
	}
}

// publishThroughConsent takes the consent env's story through the
// patient's signature, review and publication, and returns its slug and
// the text of the email that carries the revocation link.
func publishThroughConsent(t *testing.T, e *consentEnv) (string, string) {
	t.Helper()
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	revokeMail := e.smtp.Last(t).Text
	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
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
	return pub.Slug, revokeMail
}

// revokeThroughLink revokes as the patient, from the signed-copy email.
func revokeThroughLink(t *testing.T, e *consentEnv, revokeMail string) {
	t.Helper()
	u, _ := url.Parse(linkRE.FindString(strings.ReplaceAll(revokeMail, "\n", " ")))
	rv := e.Client()
	verifyDOB(rv, u.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	rv.Post(u.Path, url.Values{"reason": {"Cambié de opinión"}}).Expect(http.StatusOK)
	if st, _ := e.App.Stories.Get(context.Background(), e.story); st.Stage != "withdrawn" {
		t.Fatalf("stage after revocation = %s", st.Stage)
	}
}

// TestCDNPurgeRetriesUntilDone: a 503 from the CDN fails the attempt,
// audited and logged, the purge is listed on Admin → Jobs as not done, and
// the next attempt (the admin's "Retry now") purges and clears the alert.
func TestCDNPurgeRetriesUntilDone(t *testing.T) {
	srv, mod := fakeCDN(t, "cloudflare")
	env := apptest.New(t, mod)
	withGate(env, website.NameFull)
	id, _ := publishedStory(t, env)
	srv.FailNext(503)
	if _, err := env.App.Stories.Transition(t.Context(), storiesSystem, id, "withdrawn", "", 0); err != nil {
		t.Fatal(err)
	}
	runAllJobs(t, env) // the failed attempt waits out its backoff
	j := purgeJobs(t, env)[0]
	if j.Status != models.JobPending || j.Attempts != 1 || !strings.Contains(j.LastError, "503") {
		t.Fatalf("after a 503: %s, %d attempts, %q", j.Status, j.Attempts, j.LastError)
	}
	if auditCount(t, env, "cdn.purge_failed", id) != 1 || auditCount(t, env, "cdn.purged", id) != 0 {
		t.Fatal("the failed attempt is not audited")
	}
	if !strings.Contains(env.Logs.String(), "level=ERROR msg=\"CDN purge failed") {
		t.Fatal("the failed purge is not logged at ERROR")
	}
	admin, _ := env.SignedIn(models.RoleAdmin)
	jobsPage := admin.Get("/admin/jobs").Expect(http.StatusOK)
	if alert := jobsPage.Text("#open-cdn-purges"); !strings.Contains(alert, "1 CDN purge(s) not done") || !strings.Contains(alert, "503") {
		t.Fatalf("Admin → Jobs does not list the open purge: %q", alert)
	}
	admin.Post("/admin/jobs/"+j.ID+"/retry", nil).Expect(http.StatusSeeOther)
	runAllJobs(t, env)
	if j := purgeJobs(t, env)[0]; j.Status != models.JobDone {
		t.Fatalf("after the retry: %s %q", j.Status, j.LastError)
	}
	urls, _, _ := srv.Purged()
	if !slices.Contains(urls, env.App.Config.PublicURL+"/p/walks-again") {
		t.Fatalf("the retry purged %v", urls)
	}
	if auditCount(t, env, "cdn.purged", id) != 1 {
		t.Fatal("the successful retry is not audited")
	}
	if admin.Get("/admin/jobs").Expect(http.StatusOK).Doc.Find("#open-cdn-purges").Length() != 0 {
		t.Fatal("a done purge is still listed as not done")
	}
}

// TestCDNPurgeAuthErrorStaysOpen: a CDN refusing the token (Fastly's 401)
// is not a reason to drop the purge: it is retried with growing waits and,
// after its last attempt, stays listed on Admin → Jobs (with a Retry
// button) as a purge not done; every failure is audited.
func TestCDNPurgeAuthErrorStaysOpen(t *testing.T) {
	srv, mod := fakeCDN(t, "fastly")
	env := apptest.New(t, mod, func(c *config.Config) { c.CDN.APIToken = "revoked-token" })
	withGate(env, website.NameFull)
	id, _ := publishedStory(t, env)
	// Staff withdraw it: an admin archives the published story.
	admin, _ := env.SignedIn(models.RoleAdmin)
	admin.Post("/stories/"+id+"/transition", url.Values{"to": {"archived"}}).Expect(http.StatusSeeOther)
	env.App.Jobs.Backoff = func(int) time.Duration { return 0 }
	runAllJobs(t, env)
	j := purgeJobs(t, env)[0]
	if j.Status != models.JobDead || j.Attempts != j.MaxAttempts || j.MaxAttempts < 50 || !strings.Contains(j.LastError, "401") {
		t.Fatalf("after refusals: %s, %d of %d attempts, %q", j.Status, j.Attempts, j.MaxAttempts, j.LastError)
	}
	if n := auditCount(t, env, "cdn.purge_failed", id); n != int64(j.MaxAttempts) {
		t.Fatalf("%d failures audited, want %d", n, j.MaxAttempts)
	}
	if _, keys, _ := srv.Purged(); len(keys) != 0 {
		t.Fatal("nothing may count as purged")
	}
	page := admin.Get("/admin/jobs").Expect(http.StatusOK)
	if alert := page.Text("#open-cdn-purges"); !strings.Contains(alert, "Stopped after") || !strings.Contains(alert, "credentials") {
		t.Fatalf("Admin → Jobs does not list the stopped purge: %q", alert)
	}
	if page.Doc.Find(`form[action="/admin/jobs/`+j.ID+`/retry"]`).Length() == 0 {
		t.Fatal("the stopped purge cannot be retried")
	}
}

// TestCDNOffNoPurge: without a CDN, a withdrawal queues no purge and the
// public pages keep "no-cache" (no shared cache may keep them unpurged).
func TestCDNOffNoPurge(t *testing.T) {
	env := apptest.New(t)
	withGate(env, website.NameFull)
	id, _ := publishedStory(t, env)
	c := env.Client()
	page := c.Get("/p/walks-again").Expect(http.StatusOK)
	if cc := page.Header.Get("Cache-Control"); cc != "no-cache" || page.Header.Get("Surrogate-Key") != "" {
		t.Fatalf("without a CDN: Cache-Control %q, Surrogate-Key %q", cc, page.Header.Get("Surrogate-Key"))
	}
	if _, err := env.App.Stories.Transition(t.Context(), storiesSystem, id, "withdrawn", "", 0); err != nil {
		t.Fatal(err)
	}
	if js := purgeJobs(t, env); len(js) != 0 || auditCount(t, env, "cdn.purge_queued", id) != 0 {
		t.Fatalf("%d purge jobs without a CDN", len(js))
	}
}

// TestCDNCacheControl: with a CDN, successful public responses may be kept
// by the CDN for s-maxage but by no browser beyond revalidation; pictures
// keep their browser lifetime with the same CDN bound; 404 and 410 are
// never cached.
func TestCDNCacheControl(t *testing.T) {
	_, mod := fakeCDN(t, "generic")
	env := apptest.New(t, mod)
	gate := withGate(env, website.NameFull)
	publishedStory(t, env)
	c := env.Client()
	want := "public, max-age=0, s-maxage=60, must-revalidate"
	for _, p := range []string{"/p/walks-again", "/p", "/p/tag/surgery", "/feed.atom", "/feed.json", "/sitemap.xml"} {
		if cc := c.Get(p).Expect(http.StatusOK).Header.Get("Cache-Control"); cc != want {
			t.Errorf("%s: Cache-Control %q, want %q", p, cc, want)
		}
	}
	img := c.Get("/p/walks-again").Doc.Find("figure img").AttrOr("src", "")
	if cc := c.Get(img).Expect(http.StatusOK).Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable, s-maxage=60" {
		t.Errorf("picture: Cache-Control %q", cc)
	}
	for _, p := range []string{"/p/nothing-here"} {
		if cc := c.Get(p).Expect(http.StatusNotFound).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", p, cc)
		}
	}
	gate.set(false, website.NameFull)
	for _, p := range []string{"/p/walks-again", img} {
		if cc := c.Get(p).Expect(http.StatusGone).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s gone: Cache-Control %q", p, cc)
		}
	}
}
