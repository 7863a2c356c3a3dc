package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/models"
)

// liveStory is a story published with the real gate: the patient signed
// (website and X, first name), legal approved, a publisher published.
type liveStory struct {
	*consentEnv
	slug   string
	revoke string // the revocation link's path, from the signed-copy email
}

func publishConsented(t *testing.T) *liveStory {
	t.Helper()
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	revokeMail := e.smtp.Last(t)
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
	u, err := url.Parse(linkRE.FindString(strings.ReplaceAll(revokeMail.Text, "\n", " ")))
	if err != nil || !strings.HasPrefix(u.Path, "/r/") {
		t.Fatalf("no revocation link in %q", revokeMail.Text)
	}
	return &liveStory{consentEnv: e, slug: pub.Slug, revoke: u.Path}
}

// revokeThrough revokes the consent through client c's replica.
func (l *liveStory) revokeThrough(c *apptest.Client) {
	verifyDOB(c, l.revoke, "1984", "7", "21").Expect(http.StatusSeeOther)
	c.Post(l.revoke, url.Values{"reason": {"Cambié de opinión"}}).Expect(http.StatusOK)
}

// warm asks for path until the answer came from the cache of env's
// replica (right after a write the cache re-checks or steps aside for a
// moment: publiccache.LocalWindow), and returns that answer.
func warm(t *testing.T, env *apptest.Env, path string) *apptest.Resp {
	t.Helper()
	c := env.Client()
	deadline := time.Now().Add(15 * time.Second)
	for {
		before, _ := env.App.PublicCache.Stats()
		res := c.Get(path).Expect(http.StatusOK)
		if after, _ := env.App.PublicCache.Stats(); after > before {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never came from the public cache", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func conditional(c *apptest.Client, env *apptest.Env, path string, h map[string]string) *apptest.Resp {
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return c.Do(req)
}

// The public page, index, feeds and sitemap are served from the cache with
// an ETag and Last-Modified, answer 304 to a client holding them, go out
// gzipped as made at fill, and a revocation answers 410 on the very next
// request although the page was in the cache.
func TestPublicCacheConditionalGzipAndRevoke(t *testing.T) {
	l := publishConsented(t)
	page := "/p/" + l.slug
	c := l.Client()
	for _, path := range []string{page, "/p", "/feed.atom", "/feed.json", "/sitemap.xml"} {
		res := warm(t, l.Env, path)
		etag, lm := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
		if !strings.HasPrefix(etag, `"`) || lm == "" || res.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: ETag %q, Last-Modified %q, Cache-Control %q", path, etag, lm, res.Header.Get("Cache-Control"))
		}
		if !strings.Contains(res.Body, l.slug) {
			t.Fatalf("%s does not show the story", path)
		}
		conditional(c, l.Env, path, map[string]string{"If-None-Match": etag}).Expect(http.StatusNotModified)
		conditional(c, l.Env, path, map[string]string{"If-None-Match": `"other", ` + etag}).Expect(http.StatusNotModified)
		conditional(c, l.Env, path, map[string]string{"If-Modified-Since": lm}).Expect(http.StatusNotModified)
		conditional(c, l.Env, path, map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": lm}).Expect(http.StatusOK)
		old := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
		conditional(c, l.Env, path, map[string]string{"If-Modified-Since": old}).Expect(http.StatusOK)
		gz := conditional(c, l.Env, path, map[string]string{"Accept-Encoding": "gzip"}).Expect(http.StatusOK)
		if !strings.Contains(gz.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s: Vary %q", path, gz.Header.Get("Vary"))
		}
		if len(res.Body) < 1024 { // not worth compressing
			if gz.Header.Get("Content-Encoding") != "" || gz.Body != res.Body {
				t.Fatalf("%s: a small response was compressed", path)
			}
			continue
		}
		if gz.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s (%d bytes): Content-Encoding %q", path, len(res.Body), gz.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader([]byte(gz.Body)))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if string(plain) != res.Body {
			t.Fatalf("%s: the gzipped body differs from the plain one", path)
		}
	}
	etag := warm(t, l.Env, page).Header.Get("ETag")

	// Revocation: the page was just served from the cache; the next
	// request after the patient's revocation answers 410, and the index,
	// feeds and sitemap no longer list it; a client's stored copy is not
	// confirmed either.
	l.revokeThrough(l.Client())
	c.Get(page).Expect(http.StatusGone)
	conditional(c, l.Env, page, map[string]string{"If-None-Match": etag}).Expect(http.StatusGone)
	for _, path := range []string{"/p", "/feed.atom", "/feed.json", "/sitemap.xml"} {
		if res := c.Get(path).Expect(http.StatusOK); strings.Contains(res.Body, l.slug) {
			t.Fatalf("%s still lists the revoked story", path)
		}
	}
}

// The ETag names the state the page was built from: a changed tag (an
// edit of what the page shows) and a new approval of the revision change
// it; an approval that leaves the website out takes the page down at once.
func TestPublicCacheETagFollowsEditAndApproval(t *testing.T) {
	l := publishConsented(t)
	page := "/p/" + l.slug
	first := warm(t, l.Env, page)
	etag := first.Header.Get("ETag")

	if err := l.App.DB.Create(&models.StoryTag{StoryID: l.story, Tag: "kindness"}).Error; err != nil {
		t.Fatal(err)
	}
	edited := l.Client().Get(page).Expect(http.StatusOK).Contains("kindness")
	if edited.Header.Get("ETag") == etag {
		t.Fatal("the ETag did not change when the page's tags did")
	}
	etag = warm(t, l.Env, page).Header.Get("ETag")

	approve := func(chans ...string) {
		var st models.Story
		l.App.DB.Where("id = ?", l.story).Take(&st)
		id := uuid.Must(uuid.NewV7()).String()
		if err := l.App.DB.Create(&models.StoryApproval{ID: id, StoryID: l.story, Revision: st.Revision, ReviewerID: l.owner.ID, CreatedAt: time.Now().UTC()}).Error; err != nil {
			t.Fatal(err)
		}
		for _, ch := range chans {
			if err := l.App.DB.Create(&models.StoryApprovalChannel{ApprovalID: id, Channel: ch}).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	approve("website", "x")
	res := l.Client().Get(page).Expect(http.StatusOK)
	if res.Header.Get("ETag") == etag || res.Body != edited.Body {
		t.Fatal("a new approval of the same page must change the ETag, not the page")
	}
	warm(t, l.Env, page)
	approve("x")
	l.Client().Get(page).Expect(http.StatusGone)
	if strings.Contains(l.Client().Get("/feed.atom").Expect(http.StatusOK).Body, l.slug) {
		t.Fatal("a story no longer approved for the website is still in the feed")
	}
}

// A cached page never outlives the consent: when the consent's end comes,
// with nothing written, the next request answers 410.
func TestPublicCacheEndsAtConsentExpiry(t *testing.T) {
	l := publishConsented(t)
	page := "/p/" + l.slug
	ends := time.Now().UTC().Add(6 * time.Second).Truncate(time.Millisecond)
	if err := l.App.DB.Model(&models.ConsentRecord{}).Where("story_id = ?", l.story).Update("expires_on", ends).Error; err != nil {
		t.Fatal(err)
	}
	warm(t, l.Env, page)
	warm(t, l.Env, "/feed.atom")
	if time.Now().After(ends) {
		t.Fatal("the cache took longer to warm than the consent had left; the test proves nothing")
	}
	time.Sleep(time.Until(ends) + 50*time.Millisecond)
	l.Client().Get(page).Expect(http.StatusGone)
	if strings.Contains(l.Client().Get("/feed.atom").Expect(http.StatusOK).Body, l.slug) {
		t.Fatal("the feed still lists a story whose consent has ended")
	}
}

// Two replicas over one database: a revocation answered by one reaches
// the other's cache. On PostgreSQL through NOTIFY (milliseconds); on
// SQLite (one file, two processes' worth of handles) through the
// generation it reads at most once a second.
func TestPublicCacheRevocationReachesOtherReplica(t *testing.T) {
	l := publishConsented(t)
	page := "/p/" + l.slug
	b, err := app.New(context.Background(), l.App.Config, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Web.Handler())
	t.Cleanup(func() {
		srv.Close()
		b.Close()
	})
	replica := &apptest.Env{T: t, App: b, Server: srv, Logs: &apptest.SafeBuffer{}}
	warm(t, replica, page)
	warm(t, replica, "/feed.atom")

	start := time.Now()
	l.revokeThrough(l.Client())
	revoked := time.Now()
	c := replica.Client()
	for {
		res := c.Get(page)
		if res.Status == http.StatusGone {
			break
		}
		if res.Status != http.StatusOK {
			t.Fatalf("replica answered %d", res.Status)
		}
		if time.Since(revoked) > 10*time.Second {
			t.Fatal("the other replica still shows the page 10 s after the revocation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s: revocation visible on the other replica %s after it was answered (%s after it was sent)",
		dbtest.Driver(), time.Since(revoked).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if strings.Contains(c.Get("/feed.atom").Expect(http.StatusOK).Body, l.slug) {
		t.Fatal("the other replica's feed still lists the revoked story")
	}
}

// Behind a gate that is not the database's (tests' fakes), nothing is
// cached: every request asks the gate.
func TestPublicCacheOnlyBehindDatabaseGate(t *testing.T) {
	env := apptest.New(t)
	g := withGate(env, "full")
	publishedStory(t, env)
	c := env.Client()
	for range 3 {
		c.Get("/p/walks-again").Expect(http.StatusOK)
	}
	if hits, _ := env.App.PublicCache.Stats(); hits != 0 {
		t.Fatalf("%d cache hits behind a fake gate", hits)
	}
	g.set(false, "full")
	c.Get("/p/walks-again").Expect(http.StatusGone)
}

// An index cached while a story waits for its publish-not-before lists
// it once that time comes, with nothing written.
func TestPublicCacheEndsAtNotBefore(t *testing.T) {
	l := publishConsented(t)
	var st models.Story
	l.App.DB.Where("id = ?", l.story).Take(&st)
	from := time.Now().UTC().Add(6 * time.Second).Truncate(time.Millisecond)
	id := uuid.Must(uuid.NewV7()).String()
	if err := l.App.DB.Create(&models.StoryApproval{ID: id, StoryID: l.story, Revision: st.Revision, ReviewerID: l.owner.ID, NotBefore: &from, CreatedAt: time.Now().UTC()}).Error; err != nil {
		t.Fatal(err)
	}
	if err := l.App.DB.Create(&models.StoryApprovalChannel{ApprovalID: id, Channel: "website"}).Error; err != nil {
		t.Fatal(err)
	}
	l.Client().Get("/p/" + l.slug).Expect(http.StatusGone)
	if res := warm(t, l.Env, "/p"); strings.Contains(res.Body, l.slug) {
		t.Fatal("the index lists a story before its publish-not-before")
	}
	if time.Now().After(from) {
		t.Fatal("the cache took longer to warm than the wait had left; the test proves nothing")
	}
	time.Sleep(time.Until(from) + 50*time.Millisecond)
	if !strings.Contains(l.Client().Get("/p").Expect(http.StatusOK).Body, l.slug) {
		t.Fatal("the cached index still leaves out a story whose publish-not-before has come")
	}
	l.Client().Get("/p/" + l.slug).Expect(http.StatusOK)
}

// The withdrawal hook hears, inside the revoking transaction, every public
// address that showed the story, absolute.
func TestPublicCacheWithdrawHookGetsPublicURLs(t *testing.T) {
	l := publishConsented(t)
	var got []publiccache.Withdrawal
	l.App.PublicCache.OnWithdraw(func(_ context.Context, tx *gorm.DB, w publiccache.Withdrawal) error {
		if tx == nil {
			t.Error("the hook must get the withdrawing transaction")
		}
		got = append(got, w)
		return nil
	})
	l.revokeThrough(l.Client())
	if len(got) != 1 {
		t.Fatalf("%d withdrawals heard, want 1", len(got))
	}
	w, base := got[0], l.App.Config.PublicURL
	if w.StoryID != l.story || w.Slug != l.slug || w.Reason != "withdrawn" || !strings.Contains(w.Note, "revoked") {
		t.Fatalf("withdrawal %+v", w)
	}
	for _, want := range []string{base + "/p/" + l.slug, base + "/p", base + "/p/tag/surgery", base + "/feed.atom", base + "/feed.json", base + "/sitemap.xml"} {
		if !slices.Contains(w.URLs, want) {
			t.Errorf("URLs %v lack %s", w.URLs, want)
		}
	}
}
