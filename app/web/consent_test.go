package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/mail/smtptest"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// consentEnv is Storykeep sending mail to a real SMTP test server, with a
// storyteller, a patient (Spanish, with a date of birth and email) and a
// story in drafting.
type consentEnv struct {
	*apptest.Env
	smtp    *smtptest.Server
	staff   *apptest.Client
	owner   *models.User
	story   string
	patient string
}

func newConsentEnv(t *testing.T, mods ...func(*config.Config)) *consentEnv {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{})
	env := apptest.New(t, append([]func(*config.Config){func(c *config.Config) {
		c.MailMode, c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.SMTPFrom = "smtp", srv.Host, srv.Port, "none", "stories@hospital.test"
		c.OrganisationName = "Hospital Señora de la Peña"
	}}, mods...)...)
	c, u := env.SignedIn(models.RoleStoryteller)
	ctx := audit.WithActor(context.Background(), audit.System)
	p, err := env.App.Patients.Create(ctx, u.ID, patients.Input{FullName: "María López", PreferredName: "María", DOB: "1984-07-21",
		Email: "maria@example.org", Language: "es"})
	if err != nil {
		t.Fatal(err)
	}
	story := createStory(t, c, storyForm(p.ID, u.ID, "María camina de nuevo"))
	return &consentEnv{Env: env, smtp: srv, staff: c, owner: u, story: story, patient: p.ID}
}

// runJobs runs every due job.
func (e *consentEnv) runJobs(t *testing.T) {
	t.Helper()
	for {
		ran, err := e.App.Jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

var linkRE = regexp.MustCompile(`https?://\S+/(c|r)/[A-Za-z0-9_-]{43}`)

// send asks for consent through the staff page and returns the link path
// from the invitation email.
func (e *consentEnv) send(t *testing.T) string {
	t.Helper()
	res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
	shown := res.Doc.Find("#consent-link").AttrOr("value", "")
	if res.Doc.Find(".consent-qr img").AttrOr("src", "") == "" || shown == "" {
		t.Fatal("the sent page shows no link or QR code")
	}
	e.runJobs(t)
	m := e.smtp.Last(t)
	link := linkRE.FindString(m.Text)
	if link == "" || link != shown || !strings.Contains(m.Subject, "permiso") {
		t.Fatalf("invitation %q: link %q, shown %q", m.Subject, link, shown)
	}
	u, _ := url.Parse(link)
	return u.Path
}

func verifyDOB(c *apptest.Client, path, y, m, d string) *apptest.Resp {
	return c.Post(path+"/verify", url.Values{"method": {"dob"}, "year": {y}, "month": {m}, "day": {d}})
}

func signForm() url.Values {
	return url.Values{"channels": {"website", "x"}, "name_usage": {"first_name"}, "expires_on": {time.Now().AddDate(1, 0, 0).Format("2006-01-02")},
		"esign": {"yes"}, "typed_name": {"María López"}, "typed_signature": {"María López"}}
}

func (e *consentEnv) stage(t *testing.T) string {
	t.Helper()
	st, err := e.App.Stories.Get(context.Background(), e.story)
	if err != nil {
		t.Fatal(err)
	}
	return st.Stage
}

func TestConsentHappyPath(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	if got := e.stage(t); got != "awaiting_consent" {
		t.Fatalf("stage after sending = %s", got)
	}
	p := e.Client()
	res := p.Get(path).Expect(http.StatusOK)
	if h := res.Text("h1"); h != "Primero, confirme que es usted" || res.Doc.Find("html").AttrOr("lang", "") != "es" {
		t.Fatalf("verify page heading %q", h)
	}
	if res.Doc.Find("header nav").Length() != 0 || res.Doc.Find("script:not([src])").Length() != 0 {
		t.Fatal("patient page has staff navigation or inline script")
	}
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	res = p.Get(path).Expect(http.StatusOK)
	res.Contains("Qué se compartirá").Contains("Maria walks again")
	if res.Doc.Find("input[type=checkbox]:checked, input[type=radio]:checked").Length() != 0 {
		t.Fatal("a choice is pre-ticked")
	}
	if res.Doc.Find("fieldset#channels legend").Length() != 1 || res.Doc.Find("#choices-form").Length() != 1 {
		t.Fatal("choices lack a legend or their form")
	}
	conf := p.Post(path+"/confirm", signForm()).Expect(http.StatusOK)
	if conf.Doc.Find(`label[for="typed_signature"]`).Length() != 1 || conf.Doc.Find("#sign-form input[name=auth_sha256]").Length() != 1 {
		t.Fatal("the final step lacks the typed signature's label or the text's hash")
	}
	confirmSign(p, path, signForm()).Expect(http.StatusOK).Contains("Gracias")
	if got := e.stage(t); got != "consented" {
		t.Fatalf("stage after signing = %s", got)
	}
	e.runJobs(t)
	m := e.smtp.Last(t)
	if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("certificate mail %q has attachments %+v", m.Subject, m.Attachments)
	}
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, m.Attachments[0].Data)
	for _, want := range []string{"Qué se compartirá", "Su atención no depende de esto", rec.Digest, "/verify/" + rec.ID, "María López"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate text lacks %q", want)
		}
	}
	if rec.CertificateSHA256 == "" || !rec.SignatureTyped || rec.IP == "" {
		t.Fatalf("record evidence incomplete: %+v", rec)
	}
	ok, reason, err := e.App.Consent.Allowed(context.Background(), e.story, "x", nil, "first_name")
	if !ok || err != nil {
		t.Fatalf("Allowed(x, first_name) = %v %q %v", ok, reason, err)
	}
	if ok, _, _ := e.App.Consent.Allowed(context.Background(), e.story, "x", nil, "full"); ok {
		t.Fatal("full name allowed though only first name was consented")
	}
	if ok, _, _ := e.App.Consent.Allowed(context.Background(), e.story, "facebook", nil, "anonymous"); ok {
		t.Fatal("a channel never proposed is allowed")
	}

	// The public check confirms the certificate without naming the patient.
	res = e.Client().Get("/verify/" + rec.ID + "?digest=" + rec.Digest).Expect(http.StatusOK).Contains("This certificate is genuine").Contains("valid")
	if strings.Contains(res.Body, "María") {
		t.Fatal("the public certificate check shows the patient's name")
	}
	e.Client().Get("/verify/" + rec.ID + "?digest=" + strings.Repeat("0", 64)).Expect(http.StatusOK).Contains("does not match")
	e.staff.Get("/consents/" + rec.ID + "/certificate").Expect(http.StatusOK)

	// The used link: the signer sees "already signed"; anyone else the neutral page.
	p.Get(path).Expect(http.StatusOK).Contains("Ya está firmado")
	confirmSign(p, path, signForm()).Expect(http.StatusOK).Contains("Ya está firmado")
	e.Client().Get(path).Expect(http.StatusNotFound).Contains("Este enlace no se puede usar")
	var n int64
	e.App.DB.Model(&models.ConsentRecord{}).Where("story_id = ?", e.story).Count(&n)
	if n != 1 {
		t.Fatalf("%d records after a double submit", n)
	}

	// Revocation, twice.
	revoke := linkRE.FindString(strings.ReplaceAll(m.Text, "\n", " "))
	u, _ := url.Parse(revoke)
	if !strings.HasPrefix(u.Path, "/r/") {
		t.Fatalf("certificate mail has no revocation link: %q", m.Text)
	}
	r := e.Client()
	// The link alone does not revoke: the same identity check as signing.
	r.Get(u.Path).Expect(http.StatusOK).Contains("comprobamos que es usted quien cancela")
	r.Post(u.Path, url.Values{"reason": {"x"}}).Expect(http.StatusForbidden)
	verifyDOB(r, u.Path, "1990", "1", "1").Expect(http.StatusUnprocessableEntity)
	verifyDOB(r, u.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	r.Get(u.Path).Expect(http.StatusOK).Contains("Cancelar su permiso")
	r.Post(u.Path, url.Values{"reason": {"Cambié de opinión"}}).Expect(http.StatusOK).Contains("Su permiso está cancelado")
	r.Post(u.Path, nil).Expect(http.StatusOK).Contains("Ya está cancelado")
	if got := e.stage(t); got != "withdrawn" {
		t.Fatalf("stage after revocation = %s", got)
	}
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if rec.Status != models.RecordRevoked || rec.RevokedAt == nil || !strings.Contains(rec.ActedInReliance, `"published":false`) {
		t.Fatalf("revoked record = %s %v %s", rec.Status, rec.RevokedAt, rec.ActedInReliance)
	}
	var jobs int64
	e.App.DB.Model(&models.Job{}).Where("kind = ?", consent.JobRevoked).Count(&jobs)
	if jobs != 1 {
		t.Fatalf("%d consent.revoked jobs", jobs)
	}
	if logs := e.Logs.String(); strings.Contains(logs, path) || strings.Contains(logs, u.Path) {
		t.Fatal("a consent or revocation token reached the log")
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestConsentLinksThatMustNotWork(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	guessed, _ := consent.NewToken()
	gone := e.Client().Get("/c/" + guessed).Expect(http.StatusNotFound)
	e.Client().Get("/c/not-a-token").Expect(http.StatusNotFound)

	// An expired link shows exactly the page a guessed one does.
	e.App.DB.Model(&models.ConsentRequest{}).Where("story_id = ?", e.story).Update("expires_at", time.Now().UTC().Add(-time.Hour))
	expired := e.Client().Get(path).Expect(http.StatusNotFound)
	if expired.Text("main") != gone.Text("main") {
		t.Fatalf("expired and guessed links differ:\n%s\n%s", expired.Text("main"), gone.Text("main"))
	}
}

func TestConsentLocksAfterFiveWrongBirthDates(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	for i := 1; i <= 4; i++ {
		verifyDOB(p, path, "1990", "1", "1").Expect(http.StatusUnprocessableEntity).Contains("no coincide")
	}
	verifyDOB(p, path, "1990", "1", "1").Expect(http.StatusLocked).Contains("bloqueado")
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusLocked) // even the right date now
	p.Get(path).Expect(http.StatusLocked)
	var notes int64
	e.App.DB.Model(&models.Notification{}).Where("user_id = ? AND kind = ?", e.owner.ID, consent.NotifyLocked).Count(&notes)
	var audits int64
	e.App.DB.Model(&models.AuditEntry{}).Where("action = ?", "consent.locked").Count(&audits)
	if notes != 1 || audits != 1 {
		t.Fatalf("lock: %d notifications, %d audit entries", notes, audits)
	}
	e.staff.Get("/inbox").Expect(http.StatusOK).Contains("locked after failed identity checks")
}

func TestConsentSigningIsGuarded(t *testing.T) {
	e := newConsentEnv(t)
	pathA := e.send(t)
	// A second story of another patient, with its own request.
	ctx := audit.WithActor(context.Background(), audit.System)
	other, err := e.App.Patients.Create(ctx, e.owner.ID, patients.Input{FullName: "Juan Pérez", DOB: "1950-01-02", Email: "juan@example.org", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	storyB := createStory(t, e.staff, storyForm(other.ID, e.owner.ID, "Juan walks again"))
	res := e.staff.Post("/stories/"+storyB+"/consent", url.Values{"signer": {"patient"}, "channels": {"website"}, "name_usage": {"anonymous"},
		"language": {"en"}, "link_days": {"3"}}).Expect(http.StatusOK)
	linkB, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	pathB := linkB.Path

	p := e.Client()
	verifyDOB(p, pathA, "1984", "07", "21").Expect(http.StatusSeeOther)
	// Verified for A does not open or sign B.
	p.Get(pathB).Expect(http.StatusOK).Contains("First, confirm it is you")
	confirmSign(p, pathB, signForm()).Expect(http.StatusForbidden)
	// No CSRF token: refused.
	form := signForm()
	p.PostRaw(pathA+"/sign", form).Expect(http.StatusForbidden)
	// Missing signature: the error summary links to the typed signature field.
	form = signForm()
	form.Del("typed_signature")
	res = confirmSign(p, pathA, form).Expect(http.StatusUnprocessableEntity)
	if res.Doc.Find(`.error-summary a[href="#typed_signature"]`).Length() != 1 || res.Doc.Find("#typed_signature[aria-invalid=true]").Length() != 1 {
		t.Fatal("missing signature is not reported beside the field and in the summary")
	}
	// A drawn "signature" that is not a PNG is refused.
	form = signForm()
	form.Set("signature_data", "data:image/png;base64,bm90IGEgcG5n")
	confirmSign(p, pathA, form).Expect(http.StatusUnprocessableEntity)
	// Choices outside the proposal are refused.
	form = signForm()
	form.Set("channels", "facebook")
	confirmSign(p, pathA, form).Expect(http.StatusUnprocessableEntity)

	// The story changes underneath (not through the editor): superseded, kindly.
	e.App.DB.Model(&models.Story{}).Where("id = ?", e.story).Update("body", "Changed behind the patient's back.")
	confirmSign(p, pathA, signForm()).Expect(http.StatusConflict).Contains("La historia cambió")
	var r models.ConsentRequest
	e.App.DB.Where("story_id = ?", e.story).Take(&r)
	if r.Status != models.RequestSuperseded {
		t.Fatalf("request status %s", r.Status)
	}
	var n int64
	e.App.DB.Model(&models.ConsentRecord{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d records", n)
	}
}

func TestEditingConsentedContentSupersedes(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	ctx := audit.WithActor(context.Background(), audit.System)
	st, _ := e.App.Stories.Get(ctx, e.story)
	in := stories.InputOf(st)
	in.Body += "\n\nOne more line."
	res, err := e.App.Stories.Update(ctx, stories.Actor{UserID: e.owner.ID, Role: models.RoleStoryteller}, e.story, st.Revision, in)
	if err != nil || !res.Superseded {
		t.Fatalf("update: %v superseded=%v", err, res != nil && res.Superseded)
	}
	var rec models.ConsentRecord
	e.App.DB.Where("story_id = ?", e.story).Take(&rec)
	if rec.Status != models.RecordSuperseded {
		t.Fatalf("record status %s after editing consented content", rec.Status)
	}
	if ok, reason, _ := e.App.Consent.Allowed(ctx, e.story, "website", nil, "anonymous"); ok {
		t.Fatal("a superseded consent still allows publishing: " + reason)
	}
}
