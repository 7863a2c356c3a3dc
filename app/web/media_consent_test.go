package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/storykeep/storykeep/models"
)

// TestF1CaptionAltFocalEditSupersedesConsent: editing the caption, the alt
// text or the focal point of a photo the patient consented to, after legal
// approved the story, supersedes the consent exactly like a body edit: the
// story gets a new revision, goes back to drafting, legal's approval no
// longer applies, the record is superseded (audited) and the photo is no
// longer allowed out.
func TestF1CaptionAltFocalEditSupersedesConsent(t *testing.T) {
	for name, change := range map[string]func(url.Values){
		"caption": func(v url.Values) {
			v.Set("caption", "Mrs Maria Elena Lopez (DOB 1984-07-21, MRN 55512, room 302) was treated for HIV")
		},
		"alt":   func(v url.Values) { v.Set("alt", "María López en la habitación 302") },
		"focal": func(v url.Values) { v.Set("focal_x", "100"); v.Set("focal_y", "900") },
	} {
		t.Run(name, func(t *testing.T) {
			e := newConsentEnv(t)
			ctx := context.Background()
			photo := addPhoto(t, e.Env, e.story, e.owner.ID, "María en el jardín")
			res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"}, "media": {photo},
				"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
			link, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
			p := e.Client()
			verifyDOB(p, link.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
			// The patient sees the caption that will go out with the photo.
			p.Get(link.Path).Expect(http.StatusOK).Contains("Maria Lopez and her physiotherapist.")
			form := signForm()
			form["media"] = []string{photo}
			confirmSign(p, link.Path, form).Expect(http.StatusOK)
			e.MarkApproved(t, e.story)
			before, _ := e.App.Stories.Get(ctx, e.story)
			if ok, why, err := e.App.Consent.Allowed(ctx, e.story, "website", []string{photo}, "first_name"); !ok || err != nil {
				t.Fatalf("before the edit the photo is not allowed: %s %v", why, err)
			}

			a, err := e.App.Media.Get(ctx, photo)
			if err != nil {
				t.Fatal(err)
			}
			v := url.Values{"alt": {a.AltText}, "caption": {a.Caption}, "focal_x": {strconv.Itoa(a.FocalX)}, "focal_y": {strconv.Itoa(a.FocalY)}}
			change(v)
			e.staff.Post("/media/"+photo+"/describe", v).Expect(http.StatusSeeOther)

			st, _ := e.App.Stories.Get(ctx, e.story)
			if st.Stage != "drafting" || st.Revision != before.Revision+1 {
				t.Fatalf("after the %s edit: stage %s revision %d (was %d)", name, st.Stage, st.Revision, before.Revision)
			}
			if ap, _ := e.App.Stories.Approval(ctx, e.story); ap != nil {
				t.Fatal("legal's approval still applies after the edit")
			}
			var rec models.ConsentRecord
			e.App.DB.Where("story_id = ?", e.story).Take(&rec)
			if rec.Status != models.RecordSuperseded {
				t.Fatalf("record status %s", rec.Status)
			}
			var n int64
			e.App.DB.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", "consent.superseded", rec.ID).Count(&n)
			if n != 1 {
				t.Fatalf("%d consent.superseded audit entries", n)
			}
			if ok, _, _ := e.App.Consent.Allowed(ctx, e.story, "website", []string{photo}, "first_name"); ok {
				t.Fatal("the edited photo is still allowed out")
			}
		})
	}
	// An edit that changes nothing, or of a photo no consent covers, leaves
	// the story where it is.
	e := newConsentEnv(t)
	loose := addPhoto(t, e.Env, e.story, e.owner.ID, "Sin consentimiento")
	e.MarkApproved(t, e.story)
	e.staff.Post("/media/"+loose+"/describe", url.Values{"alt": {"Otra"}, "caption": {"x"}, "focal_x": {"1"}, "focal_y": {"2"}}).Expect(http.StatusSeeOther)
	if st, _ := e.App.Stories.Get(context.Background(), e.story); st.Stage != "approved" {
		t.Fatalf("an uncovered photo's edit moved the story to %s", st.Stage)
	}
}
