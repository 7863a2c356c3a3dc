package web_test

import (
	"archive/zip"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/models"
)

func (e *exits) hookSince(n int) []map[string]any {
	e.hook.Mu.Lock()
	defer e.hook.Mu.Unlock()
	return append([]map[string]any(nil), e.hook.Got[n:]...)
}

func (e *exits) delivery(t *testing.T, storyID, ch string) models.Delivery {
	t.Helper()
	var d models.Delivery
	if err := e.env.App.DB.Where("story_id = ? AND channel = ?", storyID, ch).Take(&d).Error; err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *exits) audited(t *testing.T, action string) int64 {
	t.Helper()
	var n int64
	if err := e.env.App.DB.Model(&models.AuditEntry{}).Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// F2: a short link leads to the public slug only, only while the page may
// be shown (410 after revocation), and no code is made when the gate
// refuses.
func TestF2ShortLinkPublicSlugOnlyWhileAllowed(t *testing.T) {
	e := newExits(t, "anonymous")
	id, _ := e.story(t, "Maria Lopez", "maria-lopez-walks-again", 1)
	e.publish(t, id)
	var link models.ShortLink
	if err := e.env.App.DB.Where("story_id = ? AND channel = ?", id, "x").Take(&link).Error; err != nil {
		t.Fatal(err)
	}
	anon := e.env.Client()
	res := anon.Get("/s/" + link.Code).Expect(http.StatusFound)
	if loc := res.Location(); loc != "/p/walks-again?utm_campaign=storykeep&utm_medium=social&utm_source=x" {
		t.Fatalf("short link leads to %q", loc)
	}
	e.consent.mu.Lock()
	e.consent.revoked = true
	e.consent.mu.Unlock()
	anon.Get("/s/" + link.Code).Expect(http.StatusGone)

	// A story the gate refuses gets no code from a bundle or a post.
	id2, _ := e.story(t, "Maria Lopez", "second-walk", 1)
	e.publisher.Get("/stories/" + id2 + "/export.zip").Expect(http.StatusConflict)
	e.publisher.Post("/stories/"+id2+"/publish", map[string][]string{"channel": {"x"}, "when": {"now"}})
	e.drain(t)
	var n int64
	e.env.App.DB.Model(&models.ShortLink{}).Where("story_id = ?", id2).Count(&n)
	if n != 0 {
		t.Fatalf("%d short link(s) made while the gate refused", n)
	}
}

// F3: social copy, alt text and captions honour the chosen name usage.
func TestF3SocialPostsHonourNameUsage(t *testing.T) {
	for usage, want := range map[string]string{"anonymous": "The patient is back on her feet!", "first_name": "María is back on her feet!"} {
		t.Run(usage, func(t *testing.T) {
			e := newExits(t, usage)
			id, _ := e.story(t, "María López", "walks", 1)
			e.publish(t, id)
			got := e.hookSince(0)
			if len(got) != 2 {
				t.Fatalf("%d posts", len(got))
			}
			for _, m := range got {
				if m["channel"] == "x" && !strings.HasPrefix(m["text"].(string), want) {
					t.Errorf("x text %q, want it to start %q", m["text"], want)
				}
				media := m["media"].([]any)[0].(map[string]any)
				if strings.Contains(asRead(media["alt_text"].(string)+media["caption"].(string)), "lopez") {
					t.Errorf("alt/caption %v", media)
				}
			}
		})
	}
}

// F8: entities, emphasis and soft hyphens do not get the name past the
// redaction on the page or in the feeds.
func TestF8RedactionBypassOnPageAndFeeds(t *testing.T) {
	e := newExits(t, "anonymous")
	form := map[string][]string{"title": {"A walk"}, "slug": {"a-walk"}, "summary": {"A walk."},
		"body":     {"Maria Lopez walked again after surgery. M&#97;ria L&#111;pez thanks the team.\n\nShe says: \"**Ma**ria is back!\" and Lo\u00adpez family too."},
		"channels": {"website"}, "patient": {e.patient}, "owner": {e.ownerID}}
	id := createStory(t, e.owner, form)
	e.env.MarkApproved(t, id)
	e.publisher.Post("/stories/"+id+"/transition", map[string][]string{"to": {"published"}}).Expect(http.StatusSeeOther)
	anon := e.env.Client()
	page := anon.Get("/p/a-walk").Expect(http.StatusOK)
	if !strings.Contains(page.Text("article"), "The patient walked again after surgery. The patient thanks the team.") {
		t.Fatalf("page text: %s", page.Text("article"))
	}
	for _, p := range []string{"/p/a-walk", "/feed.atom", "/feed.json"} {
		assertNoName(t, "anonymous", p, anon.Get(p).Expect(http.StatusOK).Body)
	}
}

// F18: a possessive form of the name does not survive into the public
// address.
func TestF18PossessiveNameNotInPublicSlug(t *testing.T) {
	e := newExits(t, "anonymous")
	id, _ := e.story(t, "She", "marias-recovery", 0)
	e.publisher.Post("/stories/"+id+"/transition", map[string][]string{"to": {"published"}}).Expect(http.StatusSeeOther)
	if got := e.publicSlug(t, id); got != "recovery" {
		t.Fatalf("public slug %q", got)
	}
}

// A withheld name the redaction cannot rewrite (inside a link address)
// makes the exit refuse, naming the field, instead of publishing.
func TestDisclosureFailsClosedNamingTheField(t *testing.T) {
	e := newExits(t, "anonymous")
	form := map[string][]string{"title": {"A walk"}, "slug": {"a-walk"}, "summary": {"A walk."},
		"body": {"Thanks to [the family](https://example.org/lopez-family)."}, "channels": {"website", "x"},
		"copy-x": {"See https://example.org/lopez-family"}, "patient": {e.patient}, "owner": {e.ownerID}}
	id := createStory(t, e.owner, form)
	e.env.MarkApproved(t, id)
	e.publisher.Post("/stories/"+id+"/publish", map[string][]string{"channel": {"x"}, "when": {"now"}}).Expect(http.StatusUnprocessableEntity)
	e.publisher.Post("/stories/"+id+"/transition", map[string][]string{"to": {"published"}}).Expect(http.StatusSeeOther)
	res := e.env.Client().Get("/p/a-walk").Expect(http.StatusGone)
	if !strings.Contains(res.Body, "body did not pass the check on the patient") || strings.Contains(strings.ToLower(res.Body), "lopez") {
		t.Fatalf("refusal page: %s", res.Body)
	}
	if e.hook.Count() != 0 {
		t.Fatal("a post naming the patient was sent")
	}
}

// A photo the patient declined is not attached to any post, nor shown or
// bundled, and the posts still go out with the other photo.
func TestDeclinedPhotoIsDroppedAndPostStillGoesOut(t *testing.T) {
	e := newExits(t, "first_name")
	id, assets := e.story(t, "María", "two-photos", 2)
	e.consent.declined[assets[1]] = true
	e.publish(t, id)
	got := e.hookSince(0)
	if len(got) != 2 {
		t.Fatalf("%d posts went out, want 2", len(got))
	}
	for _, m := range got {
		media := m["media"].([]any)
		if len(media) != 1 || !strings.HasSuffix(media[0].(map[string]any)["alt_text"].(string), " 0") {
			t.Errorf("%v: media %v", m["channel"], media)
		}
	}
	slug := e.publicSlug(t, id)
	page := e.env.Client().Get("/p/" + slug).Expect(http.StatusOK)
	if n := page.Doc.Find("figure").Length(); n != 1 || strings.Contains(page.Body, assets[1]) {
		t.Fatalf("page shows %d photos or the declined one", n)
	}
	e.env.Client().Get("/p/" + slug + "/img/" + assets[1] + "/x").Expect(http.StatusGone)
	res := e.publisher.Get("/stories/" + id + "/export.zip").Expect(http.StatusOK)
	zr, err := zip.NewReader(strings.NewReader(res.Body), int64(len(res.Body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.Contains(f.Name, assets[1]) {
			t.Fatalf("bundle carries the declined photo: %s", f.Name)
		}
	}
}

// Changed bytes of a stored crop are refused everywhere they would leave,
// and audited.
func TestMediaByteTamperRefuses(t *testing.T) {
	e := newExits(t, "anonymous")
	id, assets := e.story(t, "She", "tamper", 1)
	var r models.MediaRendition
	e.env.App.DB.Where("asset_id = ? AND name = ?", assets[0], "x").Take(&r)
	if _, err := e.env.App.Store.Put(context.Background(), r.StorageKey, strings.NewReader("jpeg:X"), 6, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	e.publish(t, id)
	if e.hook.Count() != 0 {
		t.Fatal("a tampered photo was sent")
	}
	if d := e.delivery(t, id, "x"); d.State != models.DeliveryCancelled || !strings.Contains(d.LastError, "checksum") {
		t.Fatalf("delivery %s %q", d.State, d.LastError)
	}
	slug := e.publicSlug(t, id)
	e.env.Client().Get("/p/" + slug + "/img/" + assets[0] + "/x").Expect(http.StatusGone)
	e.env.Client().Get("/p/" + slug + "/img/" + assets[0] + "/opengraph").Expect(http.StatusOK)
	e.publisher.Get("/stories/" + id + "/export.zip").Expect(http.StatusConflict)
	if e.audited(t, "media.tampered") < 3 {
		t.Fatalf("media.tampered audited %d times", e.audited(t, "media.tampered"))
	}
}

// Issue 18 item 7: a byte mismatch shows to admins on the dashboard, not
// only in the audit log; a storyteller does not see it.
func TestMediaTamperShowsOnAdminDashboard(t *testing.T) {
	e := newExits(t, "anonymous")
	id, assets := e.story(t, "She", "tamper", 1)
	var r models.MediaRendition
	e.env.App.DB.Where("asset_id = ? AND name = ?", assets[0], "x").Take(&r)
	if _, err := e.env.App.Store.Put(context.Background(), r.StorageKey, strings.NewReader("jpeg:X"), 6, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	admin, _ := e.env.SignedIn(models.RoleAdmin)
	if strings.Contains(admin.Get("/").Expect(http.StatusOK).Body, "media-tampered") {
		t.Fatal("notice shown before any mismatch")
	}
	e.publish(t, id)
	slug := e.publicSlug(t, id)
	e.env.Client().Get("/p/" + slug + "/img/" + assets[0] + "/x").Expect(http.StatusGone)
	var a models.AuditEntry
	e.env.App.DB.Where("action = ?", "media.tampered").Order("id DESC").Take(&a)
	body := admin.Get("/").Expect(http.StatusOK).Body
	if !strings.Contains(body, "media-tampered") || a.ObjectID == "" || !strings.Contains(body, a.ObjectID) {
		t.Fatalf("admin dashboard lacks the tamper notice for %q", a.ObjectID)
	}
	if strings.Contains(body, patientName) {
		t.Fatal("notice shows patient details")
	}
	if strings.Contains(e.owner.Get("/").Expect(http.StatusOK).Body, "media-tampered") {
		t.Fatal("storyteller sees the tamper notice")
	}
}

// Issue 18 item 6: the channel previews staff see list only the photos that
// will go with that post (disclosure's per-channel post), not every story
// photo: with one of two photos declined, each preview shows one image.
func TestChannelPreviewListsOnlyConsentedPhotos(t *testing.T) {
	e := newExits(t, "first_name")
	id, assets := e.story(t, "María", "two-previews", 2)
	e.consent.declined[assets[1]] = true
	r := e.publisher.Get("/stories/" + id + "/publish").Expect(http.StatusOK)
	for _, ch := range []string{"x", "mastodon"} {
		card := r.Text("#preview-" + ch)
		if !strings.Contains(card, "1 image(s)") || !strings.Contains(card, assets[0]) || strings.Contains(card, assets[1]) {
			t.Errorf("%s preview: %q", ch, card)
		}
	}
}
