package web_test

import (
	"archive/zip"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

type allowAll struct{}

func (allowAll) Allowed(context.Context, string, string, []string, string) (bool, string, error) {
	return true, "", nil
}

func TestPublishPanelPostNowShortLinkAndBundle(t *testing.T) {
	env := apptest.New(t)
	env.App.Export.Gate = allowAll{}
	st, u := env.SignedIn(models.RoleStoryteller)
	form := storyForm(addPatient(env, u.ID, "Maria Lopez"), u.ID, "Maria walks again")
	form["channels"] = []string{"website", "x", "linkedin"}
	form.Set("copy-linkedin", "Maria walks again.")
	id := createStory(t, st, form)
	env.MarkApproved(t, id)

	pub, _ := env.SignedIn(models.RolePublisher)
	page := pub.Get("/stories/" + id + "/publish").Expect(http.StatusOK)
	page.Contains("of 280 characters (links count as 23)").Contains("via bundle")
	pub.Post("/stories/"+id+"/publish", url.Values{"channel": {"linkedin"}, "when": {"now"}}).Expect(http.StatusSeeOther)
	for ran, _ := env.App.Jobs.RunOnce(context.Background()); ran; ran, _ = env.App.Jobs.RunOnce(context.Background()) {
	}
	page = pub.Get("/stories/" + id + "/publish").Expect(http.StatusOK)
	if got := page.Text("#deliveries .delivery-linkedin .state"); got != "sent" {
		t.Fatalf("delivery state %q", got)
	}
	var s models.Story
	env.App.DB.Where("id = ?", id).Take(&s)
	if s.Stage != "published" {
		t.Fatalf("stage %s", s.Stage)
	}

	var link models.ShortLink
	env.App.DB.Where("story_id = ? AND channel = ?", id, "linkedin").Take(&link)
	anon := env.Client()
	var wp models.WebsitePublication
	env.App.DB.Where("story_id = ?", id).Take(&wp)
	res := anon.Get("/s/" + link.Code).Expect(http.StatusFound)
	// The short link leads to the public slug, never the staff one (F2).
	if wp.Slug == s.Slug || strings.Contains(wp.Slug, "maria") || res.Location() != "/p/"+wp.Slug+"?utm_campaign=storykeep&utm_medium=social&utm_source=linkedin" || res.Header.Get("Set-Cookie") != "" {
		t.Fatalf("redirect %q cookie %q", res.Location(), res.Header.Get("Set-Cookie"))
	}
	anon.Get("/s/nope").Expect(http.StatusNotFound)
	if got := pub.Get("/stories/" + id + "/publish").Text("#clicks tbody tr"); got != "LinkedIn1" {
		t.Fatalf("clicks %q", got)
	}
	pub.Get("/publishing").Expect(http.StatusOK).Contains("Last 30 days: 1 clicks")

	res = pub.Get("/stories/" + id + "/export.zip").Expect(http.StatusOK)
	zr, err := zip.NewReader(strings.NewReader(res.Body), int64(len(res.Body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "linkedin.txt") || !strings.Contains(got, "x.txt") || !strings.Contains(got, "alt-text.csv") {
		t.Fatalf("bundle files %s", got)
	}

	pub.Post("/stories/"+id+"/takedown", url.Values{"reason": {"test"}}).Expect(http.StatusSeeOther)
	if got := pub.Get("/stories/" + id + "/publish").Text("#deliveries .delivery-linkedin .state"); got != "deleted" {
		t.Fatalf("after takedown %q", got)
	}
}

func TestChannelAccountFormKeepsValuesAndSealsSecret(t *testing.T) {
	env := apptest.New(t)
	admin, _ := env.SignedIn(models.RoleAdmin)
	res := admin.Post("/admin/channels/mastodon", url.Values{"method": {"mastodon"}, "url": {"not a url"}, "enabled": {"1"}}).Expect(http.StatusUnprocessableEntity)
	if res.Doc.Find("#url-mastodon").AttrOr("aria-invalid", "") != "true" || res.Doc.Find("#url-mastodon").AttrOr("value", "") != "not a url" {
		t.Fatal("bad URL must be marked and kept")
	}
	admin.Post("/admin/channels/mastodon", url.Values{"method": {"mastodon"}, "url": {"https://mastodon.test"}, "secret": {"tok-123"}, "enabled": {"1"}}).Expect(http.StatusSeeOther)
	var a models.ChannelAccount
	env.App.DB.Where("channel = ?", "mastodon").Take(&a)
	if a.Secret == "" || strings.Contains(a.Secret, "tok-123") {
		t.Fatalf("secret stored as %q", a.Secret)
	}
	admin.Get("/admin/channels").Expect(http.StatusOK).Contains("— set")
	admin.Post("/admin/channels/website", url.Values{"method": {"webhook"}}).Expect(http.StatusNotFound)
}
