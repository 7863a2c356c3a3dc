package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/models"
)

// fakeGate stands in for the consent capability: it allows the website
// with one name usage, except for denied media, until told otherwise.
type fakeGate struct {
	mu     sync.Mutex
	usage  string
	allow  bool
	denied map[string]bool
}

func (g *fakeGate) set(allow bool, usage string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.allow, g.usage = allow, usage
}

func (g *fakeGate) Allowed(_ context.Context, _, channel string, mediaIDs []string, usage string) (bool, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range mediaIDs {
		if g.denied[m] {
			return false, "media", nil
		}
	}
	return g.allow && channel == website.Channel && usage == g.usage, "", nil
}

func (g *fakeGate) NameUsage(context.Context, string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.usage, nil
}

// publishedStory creates a story about Maria Elena Lopez with one described
// photo (and its crops), moves it to approved directly (consent is another
// capability's) and lets a publisher publish it through the router.
func publishedStory(t *testing.T, env *apptest.Env) (storyID, assetID string) {
	t.Helper()
	owner, u := env.SignedIn(models.RoleStoryteller)
	publisher, _ := env.SignedIn(models.RolePublisher)
	form := storyForm(addPatient(env, u.ID, "Maria Elena Lopez"), u.ID, "Maria Lopez walks again")
	form.Set("slug", "maria-lopez-walks-again")
	form.Set("summary", "After surgery, Maria Lopez learned to walk again.")
	form.Set("body", "Maria Lopez thanks her team. Ms. López says the nurses were kind.\n\nLopez's daughter came every day.")
	form.Set("tags", "surgery, recovery")
	storyID = createStory(t, owner, form)
	assetID = addPhoto(t, env, storyID, u.ID, "Maria Lopez in the garden")
	env.MarkApproved(t, storyID)
	publisher.Post("/stories/"+storyID+"/transition", url.Values{"to": {"published"}}).Expect(http.StatusSeeOther)
	return storyID, assetID
}

func addPhoto(t *testing.T, env *apptest.Env, storyID, uploader, alt string) string {
	t.Helper()
	ctx, now := context.Background(), time.Now().UTC()
	id := uuid.Must(uuid.NewV7()).String()
	a := models.MediaAsset{ID: id, OwnerType: models.OwnerStory, OwnerID: storyID, Kind: "image", ContentType: "image/jpeg", StorageKey: "media/story/" + storyID + "/" + id,
		SHA256: strings.Repeat("a", 64), AltText: alt, Caption: "Maria Lopez and her physiotherapist.", RenditionsState: "ready", UploadedBy: uploader, CreatedAt: now, UpdatedAt: now}
	if err := env.App.DB.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"x", "opengraph", "instagram-square", "thumbnail", "instagram-portrait"} {
		key := a.StorageKey + ".r/" + n
		if _, err := env.App.Store.Put(ctx, key, strings.NewReader("jpeg:"+n), int64(len("jpeg:"+n)), "image/jpeg"); err != nil {
			t.Fatal(err)
		}
		r := models.MediaRendition{AssetID: id, Name: n, StorageKey: key, Width: 1200, Height: 630, SizeBytes: 9, SHA256: sha256Hex("jpeg:" + n), CreatedAt: now}
		if err := env.App.DB.Create(&r).Error; err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func withGate(env *apptest.Env, usage string) *fakeGate {
	g := &fakeGate{allow: true, usage: usage, denied: map[string]bool{}}
	env.App.Website.Gate = g
	return g
}

func TestPublicStoryPage(t *testing.T) {
	env := apptest.New(t)
	withGate(env, website.NameFull)
	id, asset := publishedStory(t, env)
	var pub models.WebsitePublication
	env.App.DB.Where("story_id = ?", id).Take(&pub)
	if pub.Slug != "walks-again" || pub.WithdrawnAt != nil {
		t.Fatalf("publication %+v: the public slug must drop the patient's name", pub)
	}
	c := env.Client()
	res := c.Get("/p/walks-again").Expect(http.StatusOK)
	for h, want := range map[string]string{"Content-Security-Policy": "script-src 'self'", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("header %s = %q, want %q", h, res.Header.Get(h), want)
		}
	}
	if res.Header.Get("Set-Cookie") != "" {
		t.Error("the public website must not set cookies")
	}
	res.Contains("Maria Lopez walks again").Contains("Maria Lopez thanks her team")
	meta := func(attr, name string) string { return res.Doc.Find("meta["+attr+"='"+name+"']").AttrOr("content", "") }
	canonical := env.App.Config.PublicURL + "/p/walks-again"
	if meta("property", "og:title") != "Maria Lopez walks again" || meta("property", "og:type") != "article" || meta("property", "og:url") != canonical ||
		!strings.Contains(meta("property", "og:image"), "/img/"+asset+"/opengraph") || meta("name", "twitter:card") != "summary_large_image" ||
		!strings.Contains(meta("name", "twitter:image"), "/img/"+asset+"/x") {
		t.Fatalf("share tags: %s", res.Doc.Find("head").Text())
	}
	var ld map[string]any
	if err := json.Unmarshal([]byte(res.Doc.Find(`script[type="application/ld+json"]`).Text()), &ld); err != nil {
		t.Fatal("JSON-LD:", err)
	}
	if ld["@type"] != "Article" || ld["headline"] != "Maria Lopez walks again" || ld["datePublished"] == "" || ld["dateModified"] == "" ||
		ld["publisher"].(map[string]any)["name"] != env.App.Config.OrganisationName || len(ld["image"].([]any)) != 1 {
		t.Fatalf("JSON-LD: %v", ld)
	}
	img := res.Doc.Find("figure img")
	if img.AttrOr("alt", "") != "Maria Lopez in the garden" || !strings.Contains(img.AttrOr("srcset", ""), "thumbnail") || res.Doc.Find("picture source").Length() != 1 {
		t.Fatalf("photo: %s", res.Body)
	}
	src := img.AttrOr("src", "")
	imgRes := c.Get(src).Expect(http.StatusOK)
	if imgRes.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || imgRes.Body != "jpeg:instagram-square" {
		t.Fatalf("image: %q %q", imgRes.Header.Get("Cache-Control"), imgRes.Body)
	}
	c.Get("/p/walks-again/img/" + asset + "/instagram-portrait").Expect(http.StatusNotFound)
	c.Get("/p/walks-again/img/" + uuid.NewString() + "/x").Expect(http.StatusNotFound)
	c.Get("/p/no-such-story").Expect(http.StatusNotFound).Contains("Page not found")
}

func TestPublicNameUsage(t *testing.T) {
	for _, tc := range []struct {
		usage     string
		want      string
		forbidden []string
	}{
		{website.NameFirst, "Maria thanks her team. Maria says the nurses were kind. Maria's daughter", []string{"Lopez", "López", "Elena"}},
		{website.NameAnonymous, "The patient thanks her team. The patient says the nurses were kind. The patient's daughter", []string{"Lopez", "López", "Elena", "Maria"}},
	} {
		t.Run(tc.usage, func(t *testing.T) {
			env := apptest.New(t)
			withGate(env, tc.usage)
			publishedStory(t, env)
			c := env.Client()
			res := c.Get("/p/walks-again").Expect(http.StatusOK).Contains(tc.want)
			for _, doc := range []string{res.Body, c.Get("/p").Body, c.Get("/feed.atom").Body, c.Get("/feed.json").Body, c.Get("/sitemap.xml").Body} {
				for _, name := range tc.forbidden {
					if strings.Contains(strings.ToLower(doc), strings.ToLower(name)) {
						t.Fatalf("%q appears on a public page:\n%s", name, doc)
					}
				}
			}
		})
	}
}

func TestPublicFeedsAndWithdrawal(t *testing.T) {
	env := apptest.New(t)
	gate := withGate(env, website.NameFull)
	id, asset := publishedStory(t, env)
	c := env.Client()
	url := env.App.Config.PublicURL + "/p/walks-again"
	index := c.Get("/p").Expect(http.StatusOK).Contains("Maria Lopez walks again")
	if index.Doc.Find(`a[href="/p/tag/surgery"]`).Length() == 0 {
		t.Fatal("index must link the story's tags")
	}
	c.Get("/p/tag/surgery").Expect(http.StatusOK).Contains("Maria Lopez walks again")
	c.Get("/p/tag/unknown").Expect(http.StatusNotFound)
	checkListed := func(want bool) {
		t.Helper()
		var atom struct {
			Entries []struct {
				ID string `xml:"id"`
			} `xml:"entry"`
		}
		res := c.Get("/feed.atom").Expect(http.StatusOK)
		if err := xml.Unmarshal([]byte(res.Body), &atom); err != nil || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/atom+xml") {
			t.Fatal("atom:", err)
		}
		var feed struct {
			Version string `json:"version"`
			Items   []struct {
				URL string `json:"url"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(c.Get("/feed.json").Expect(http.StatusOK).Body), &feed); err != nil || feed.Version != "https://jsonfeed.org/version/1.1" {
			t.Fatal("json feed:", err, feed.Version)
		}
		var sm struct {
			URLs []struct {
				Loc string `xml:"loc"`
			} `xml:"url"`
		}
		if err := xml.Unmarshal([]byte(c.Get("/sitemap.xml").Expect(http.StatusOK).Body), &sm); err != nil {
			t.Fatal("sitemap:", err)
		}
		got := []bool{len(atom.Entries) == 1 && atom.Entries[0].ID == url, len(feed.Items) == 1 && feed.Items[0].URL == url,
			slices.ContainsFunc(sm.URLs, func(u struct {
				Loc string `xml:"loc"`
			}) bool {
				return u.Loc == url
			})}
		if !slices.Equal(got, []bool{want, want, want}) {
			t.Fatalf("listed in atom, json feed, sitemap: %v, want %v", got, want)
		}
	}
	checkListed(true)
	imgPath := "/p/walks-again/img/" + asset + "/x"

	// Consent no longer allows it: gone at once, from everywhere.
	gate.set(false, website.NameFull)
	c.Get("/p/walks-again").Expect(http.StatusGone).Contains("This story is no longer available")
	if res := c.Get(imgPath).Expect(http.StatusGone); strings.Contains(res.Header.Get("Cache-Control"), "public") {
		t.Fatal("a withdrawn image must not be cacheable")
	}
	checkListed(false)
	gate.set(true, website.NameFull)
	checkListed(true)

	// One photo no longer allowed: the page stays, the photo goes.
	gate.denied[asset] = true
	if res := c.Get("/p/walks-again").Expect(http.StatusOK); res.Doc.Find("figure").Length() != 0 || res.Doc.Find(`meta[property="og:image"]`).Length() != 0 {
		t.Fatal("a photo the patient no longer allows must not be shown")
	}
	c.Get(imgPath).Expect(http.StatusGone)
	delete(gate.denied, asset)

	// The story is withdrawn (consent revoked): 410 even if the gate said yes.
	if _, err := env.App.Stories.Transition(t.Context(), storiesSystem, id, "withdrawn", "", 0); err != nil {
		t.Fatal(err)
	}
	c.Get("/p/walks-again").Expect(http.StatusGone)
	c.Get(imgPath).Expect(http.StatusGone)
	checkListed(false)
	var pub models.WebsitePublication
	env.App.DB.Where("story_id = ?", id).Take(&pub)
	if pub.WithdrawnAt == nil || pub.WithdrawnReason != "withdrawn" {
		t.Fatalf("publication not marked withdrawn: %+v", pub)
	}
	var audits int64
	env.App.DB.Model(&models.AuditEntry{}).Where("object_id = ? AND action IN ?", id, []string{"website.publish", "website.withdraw"}).Count(&audits)
	if audits != 2 {
		t.Fatalf("%d website audit entries, want 2", audits)
	}
}

func TestPublicUnpublishedAndDenyAll(t *testing.T) {
	env := apptest.New(t)
	owner, u := env.SignedIn(models.RoleStoryteller)
	createStory(t, owner, storyForm(addPatient(env, u.ID, "Ann Smith"), u.ID, "A draft"))
	c := env.Client()
	c.Get("/p/a-draft").Expect(http.StatusNotFound)
	c.Get("/p").Expect(http.StatusOK).Contains("No stories have been published yet")
	// A published story is public while its consent allows it; with the
	// gate that a server has before consent is wired, it is not.
	withGate(env, website.NameFull)
	id, _ := publishedStory(t, env)
	c.Get("/p/walks-again").Expect(http.StatusOK)
	env.App.Website.Gate = website.DenyAll{}
	c.Get("/p/walks-again").Expect(http.StatusGone)
	var n int64
	env.App.DB.Model(&models.WebsitePublication{}).Where("story_id = ?", id).Count(&n)
	if n != 1 {
		t.Fatal("publishing must record the publication")
	}
}

// TestPublicImageConditional (issue 23): a picture answers 304 to a client
// holding its bytes (If-None-Match with its ETag), keeping the cache rule of
// its address (versioned: immutable; plain: no-cache), and answers 410, not
// 304, once the patient no longer allows it.
func TestPublicImageConditional(t *testing.T) {
	env := apptest.New(t)
	gate := withGate(env, website.NameFull)
	_, asset := publishedStory(t, env)
	c := env.Client()
	src := c.Get("/p/walks-again").Expect(http.StatusOK).Doc.Find("figure img").AttrOr("src", "")
	if !strings.Contains(src, "?v=") {
		t.Fatalf("picture address %q is not versioned", src)
	}
	first := c.Get(src).Expect(http.StatusOK)
	etag := first.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("picture ETag %q", etag)
	}
	ask := func(path, inm string) *apptest.Resp {
		req, _ := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
		req.Header.Set("If-None-Match", inm)
		return c.Do(req)
	}
	plain := "/p/walks-again/img/" + asset + "/instagram-square"
	for path, cc := range map[string]string{src: "public, max-age=31536000, immutable", plain: "no-cache"} {
		res := ask(path, etag).Expect(http.StatusNotModified)
		if res.Body != "" || res.Header.Get("Cache-Control") != cc || res.Header.Get("ETag") != etag {
			t.Fatalf("%s: 304 with body %q, Cache-Control %q, ETag %q; want no body, %q", path, res.Body, res.Header.Get("Cache-Control"), res.Header.Get("ETag"), cc)
		}
		ask(path, `"other"`).Expect(http.StatusOK)
	}
	gate.set(false, website.NameFull) // the patient revoked
	for _, path := range []string{src, plain} {
		if res := ask(path, etag); res.Status != http.StatusGone {
			t.Fatalf("%s after revocation: %d, want 410 even to a client holding the picture", path, res.Status)
		}
	}
}
