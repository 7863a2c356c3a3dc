package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

func (e *consentEnv) request(t *testing.T) models.ConsentRequest {
	t.Helper()
	var r models.ConsentRequest
	if err := e.App.DB.Where("story_id = ?", e.story).Order("created_at DESC").Limit(1).Find(&r).Error; err != nil || r.ID == "" {
		t.Fatalf("no consent request: %v", err)
	}
	return r
}

func (e *consentEnv) inbox(t *testing.T, kind string) int64 {
	t.Helper()
	var n int64
	e.App.DB.Model(&models.Notification{}).Where("story_id = ? AND kind = ?", e.story, kind).Count(&n)
	return n
}

func TestConsentDecline(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	p.Post(path+"/decline", url.Values{"reason": {"No quiero"}}).Expect(http.StatusOK)
	if got := e.stage(t); got != "consent_declined" {
		t.Fatalf("stage after declining = %s", got)
	}
	if r := e.request(t); r.Status != models.RequestDeclined || r.DeclineReason != "No quiero" {
		t.Fatalf("request after declining: %s %q", r.Status, r.DeclineReason)
	}
	if e.inbox(t, consent.NotifyDeclined) == 0 {
		t.Fatal("staff were not told the patient declined")
	}
	confirmSign(p, path, signForm())
	var n int64
	e.App.DB.Model(&models.ConsentRecord{}).Where("story_id = ?", e.story).Count(&n)
	if n != 0 {
		t.Fatal("a declined request could still be signed")
	}
}

func TestConsentResendAndCancel(t *testing.T) {
	e := newConsentEnv(t)
	first := e.send(t)
	r := e.request(t)
	res := e.staff.Post("/stories/"+e.story+"/consent/"+r.ID+"/resend", nil)
	if res.Status != http.StatusOK && res.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d %s", res.Status, res.Text("main"))
	}
	e.runJobs(t)
	second, _ := url.Parse(linkRE.FindString(e.smtp.Last(t).Text))
	if second.Path == first || !strings.HasPrefix(second.Path, "/c/") {
		t.Fatalf("resend did not send a new link: %q", second.Path)
	}
	e.Client().Get(first).Expect(http.StatusNotFound)
	e.Client().Get(second.Path).Expect(http.StatusOK)
	e.staff.Post("/stories/"+e.story+"/consent/"+r.ID+"/cancel", nil)
	if got := e.request(t).Status; got != models.RequestCancelled {
		t.Fatalf("request after cancel: %s", got)
	}
	e.Client().Get(second.Path).Expect(http.StatusNotFound)
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func TestConsentEmailedCode(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	p.Get(path).Expect(http.StatusOK)
	p.Post(path+"/code", nil)
	e.runJobs(t)
	code := codeRE.FindString(e.smtp.Last(t).Text)
	if code == "" {
		t.Fatalf("no six-digit code in %q", e.smtp.Last(t).Text)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if res := p.Post(path+"/verify", url.Values{"method": {"code"}, "code": {wrong}}); res.Status == http.StatusSeeOther {
		t.Fatal("a wrong code verified the patient")
	}
	p.Post(path+"/verify", url.Values{"method": {"code"}, "code": {code}}).Expect(http.StatusSeeOther)
	p.Get(path).Expect(http.StatusOK).Contains("Qué se compartirá")
}

func signaturePNG(t *testing.T) string {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	for x := 20; x < 280; x++ {
		img.Set(x, 50+(x%20)-10, color.NRGBA{20, 30, 80, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestConsentDrawnSignatureStored(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	form := signForm()
	form.Del("typed_signature")
	form.Set("signature_data", signaturePNG(t))
	confirmSign(p, path, form).Expect(http.StatusOK).Contains("Gracias")
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if rec.SignatureTyped || rec.SignatureKey == "" || len(rec.SignatureSHA256) != 64 {
		t.Fatalf("drawn signature not recorded: %+v", rec)
	}
	if _, err := e.App.Store.Stat(context.Background(), rec.SignatureKey); err != nil {
		t.Fatalf("signature image not in storage: %v", err)
	}
}

func TestConsentReminderRenewalAndExpiry(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	// The day-3 reminder: bring its job forward and run it.
	if err := e.App.DB.Exec("UPDATE jobs SET run_at = ? WHERE kind = ? AND status = ? AND payload LIKE ?",
		time.Now().UTC().Add(-time.Second), consent.JobMail, models.JobPending, `%"reminder"%`).Error; err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	if s := e.smtp.Last(t).Subject; !strings.HasPrefix(s, "Recordatorio") {
		t.Fatalf("reminder mail subject %q", s)
	}
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	var rec models.ConsentRecord
	e.App.DB.Where("story_id = ?", e.story).Take(&rec)

	ctx := context.Background()
	e.App.Consent.SetClock(func() time.Time { return rec.ExpiresOn.Add(-10 * 24 * time.Hour) })
	if err := e.App.Consent.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if e.inbox(t, consent.NotifyRenewal) == 0 {
		t.Fatal("no renewal reminder 10 days before expiry")
	}
	e.App.Consent.SetClock(func() time.Time { return rec.ExpiresOn.Add(time.Hour) })
	if err := e.App.Consent.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if rec.Status != models.RecordExpired {
		t.Fatalf("record after its expiry date: %s", rec.Status)
	}
	if got := e.stage(t); got != "withdrawn" {
		t.Fatalf("stage after the consent expired: %s", got)
	}
}
