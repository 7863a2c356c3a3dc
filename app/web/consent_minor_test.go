package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/models"
)

// minorEnv is consentEnv with a second patient, a minor (Lucía, born so
// that she is 17 and turns 18 in about half a year), and a story about her.
type minorEnv struct {
	*consentEnv
	minor, minorStory string
	dob               time.Time
}

func newMinorEnv(t *testing.T, age int, daysToBirthday int, mods ...func(*config.Config)) *minorEnv {
	t.Helper()
	e := newConsentEnv(t, mods...)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	dob := today.AddDate(-age-1, 0, daysToBirthday)
	ctx := audit.WithActor(context.Background(), audit.System)
	p, err := e.App.Patients.Create(ctx, e.owner.ID, patients.Input{FullName: "Lucía Gómez", PreferredName: "Lucía",
		DOB: dob.Format("2006-01-02"), Email: "lucia@example.org", Language: "es"})
	if err != nil {
		t.Fatal(err)
	}
	story := createStory(t, e.staff, storyForm(p.ID, e.owner.ID, "Lucía vuelve a correr"))
	return &minorEnv{consentEnv: e, minor: p.ID, minorStory: story, dob: dob}
}

func (e *minorEnv) sendForm(extra url.Values) url.Values {
	f := url.Values{"channels": {"website", "x"}, "name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func minorAuditCount(t *testing.T, e *consentEnv, action string) int64 {
	t.Helper()
	var n int64
	if err := e.App.DB.Model(&models.AuditEntry{}).Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMinorCannotSignAlone: a 16-year-old cannot be sent a request to sign
// alone; a short reason is not enough; a reasoned exception is kept on the
// request and audited.
func TestMinorCannotSignAlone(t *testing.T) {
	e := newMinorEnv(t, 16, 40)
	path := "/stories/" + e.minorStory + "/consent"
	res := e.staff.Post(path, e.sendForm(url.Values{"signer": {"patient"}})).Expect(http.StatusUnprocessableEntity)
	if msg := res.Text("#signer-error"); !strings.Contains(msg, "The patient is 16, under 18") {
		t.Fatalf("signer error %q", msg)
	}
	e.staff.Post(path, e.sendForm(url.Values{"signer": {"patient"}, "minor_exception": {"emancipated"}})).Expect(http.StatusUnprocessableEntity)
	var n int64
	e.App.DB.Model(&models.ConsentRequest{}).Where("story_id = ?", e.minorStory).Count(&n)
	if n != 0 {
		t.Fatalf("%d requests sent for a minor signing alone", n)
	}
	// A representative without their details is refused too.
	e.staff.Post(path, e.sendForm(url.Values{"signer": {"representative"}})).Expect(http.StatusUnprocessableEntity).Contains("representative")

	reason := "Emancipated minor: court order 2026-114 seen by legal on 3 December"
	e.staff.Post(path, e.sendForm(url.Values{"signer": {"patient"}, "minor_exception": {reason}})).Expect(http.StatusOK)
	var r models.ConsentRequest
	if err := e.App.DB.Where("story_id = ?", e.minorStory).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	if r.MinorException != reason || r.SignerKind != "patient" {
		t.Fatalf("request kept exception %q signer %q", r.MinorException, r.SignerKind)
	}
	var entry models.AuditEntry
	if err := e.App.DB.Where("action = ? AND object_id = ?", "consent.minor_exception", r.ID).Take(&entry).Error; err != nil {
		t.Fatalf("the exception was not audited: %v", err)
	}
	if !strings.Contains(entry.Details, "court order") {
		t.Fatalf("audited exception lacks the reason: %s", entry.Details)
	}
}

// TestRepresentativeSignsForMinorAndConsentLapsesAtMajority: a mother signs
// for her 17-year-old daughter from her own email, is addressed as the
// representative, proves the link with the patient's date of birth, types
// her own name (a different one is refused), attests her authority, and the
// daughter assents. At 18 the sweep withdraws the story and the renewal
// request reaches the daughter's own address over SMTP.
func TestRepresentativeSignsForMinorAndConsentLapsesAtMajority(t *testing.T) {
	e := newMinorEnv(t, 17, 180)
	e.staff.Post("/stories/"+e.minorStory+"/consent", e.sendForm(url.Values{"signer": {"representative"},
		"rep_name": {"Ana Gómez"}, "rep_relationship": {"madre"}, "rep_authority": {"madre de una menor"},
		"rep_email": {"ana@example.org"}, "rep_phone": {"+1 555 0100"}})).Expect(http.StatusOK)
	e.runJobs(t)
	inv := e.smtp.Last(t)
	if !strings.Contains(inv.To, "ana@example.org") || !strings.Contains(inv.Text, "como madre de Lucía") {
		t.Fatalf("invitation to %q: %s", inv.To, inv.Text)
	}
	var r models.ConsentRequest
	if err := e.App.DB.Where("story_id = ?", e.minorStory).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	if r.RepEmailSealed == "" || strings.Contains(r.RepEmailSealed, "ana@") || r.RepPhoneSealed == "" {
		t.Fatal("the representative's email or phone is not sealed on the request")
	}
	u, _ := url.Parse(linkRE.FindString(inv.Text))
	path := u.Path
	p := e.Client()
	res := p.Get(path).Expect(http.StatusOK)
	if got := res.Text("fieldset.dob legend"); got != "Fecha de nacimiento del paciente (Lucía)" {
		t.Fatalf("identity check legend %q", got)
	}
	res.Contains("Usted actúa por Lucía como su madre")
	verifyDOB(p, path, "1980", "1", "1").Expect(http.StatusUnprocessableEntity)
	verifyDOB(p, path, e.dob.Format("2006"), e.dob.Format("1"), e.dob.Format("2")).Expect(http.StatusSeeOther)
	if got := p.Get(path).Expect(http.StatusOK).Text("#rep-for"); got != "Usted firma por Lucía como su madre." {
		t.Fatalf("review page addresses the signer as %q", got)
	}
	form := signForm()
	form.Set("typed_name", "Ana Gomez Otra")
	form.Set("typed_signature", "Ana Gómez")
	conf := p.Post(path+"/confirm", cloneValues(form)).Expect(http.StatusOK)
	if !strings.Contains(conf.Text("#rep-statement"), "Yo, Ana Gómez, declaro que soy madre de Lucía") || conf.Doc.Find("#assent").Length() != 1 {
		t.Fatalf("confirm page lacks the attestation or assent: %q", conf.Text("#rep-statement"))
	}
	if conf.Doc.Find(`#sign-form[enctype="multipart/form-data"] input[type=file][name=rep_document]`).Length() != 1 {
		t.Fatal("the sign form offers no document upload")
	}
	res = confirmSign(p, path, form).Expect(http.StatusUnprocessableEntity)
	res.Contains("Escriba su propio nombre completo tal como lo tiene el equipo: Ana Gómez").Contains("Marque la casilla para confirmar")
	form.Set("typed_name", "ana  gómez")
	form.Set("rep_attest", "yes")
	form.Set("assent", "yes")
	confirmSign(p, path, form).Expect(http.StatusUnprocessableEntity).Contains("Escriba el nombre de la persona joven")
	form.Set("assent_name", "Lucía")
	confirmSign(p, path, form).Expect(http.StatusOK).Contains("Gracias")

	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.minorStory).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if rec.SignerKind != "representative" || rec.RepName != "Ana Gómez" || rec.RepRelationship != "madre" || rec.AssentName != "Lucía" ||
		!strings.Contains(rec.RepStatement, "autoridad legal") || !rec.Minor || rec.MajorityOn == nil {
		t.Fatalf("record evidence: %+v", rec)
	}
	if want := e.dob.AddDate(18, 0, 0); !rec.MajorityOn.Equal(want) {
		t.Fatalf("majority on %v, want %v", rec.MajorityOn, want)
	}
	if chk := consent.VerifyScope(&rec); !chk.Matches || chk.Legacy {
		t.Fatalf("signed scope does not verify: %+v", chk)
	}
	canonical, _, _ := consent.SignedScope(&rec)
	if !strings.Contains(string(canonical), `"assent_name":"Lucía"`) || !strings.Contains(string(canonical), `"statement":"Yo, Ana Gómez`) {
		t.Fatalf("assent or attestation not in the signed scope: %s", canonical)
	}
	// The assent is bound: changing it in the database breaks the scope.
	tampered := rec
	tampered.AssentName = "Otra"
	if consent.VerifyScope(&tampered).Matches {
		t.Fatal("a changed assent still matches the signed scope")
	}
	e.runJobs(t)
	cert := e.smtp.Last(t)
	if !strings.Contains(cert.To, "ana@example.org") || len(cert.Attachments) != 1 {
		t.Fatalf("the signed copy went to %q with %d attachments", cert.To, len(cert.Attachments))
	}
	text := strings.Join(strings.Fields(pdfText(t, cert.Attachments[0].Data)), " ")
	for _, want := range []string{"Declaración de autoridad", "Yo, Ana Gómez, declaro que soy madre de Lucía", "Acuerdo del menor", "Ana Gómez"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate lacks %q", want)
		}
	}
	// Revoking asks the representative, not the minor: the code goes to her address.
	ru, _ := url.Parse(linkRE.FindString(strings.ReplaceAll(cert.Text, "\n", " ")))
	if !strings.HasPrefix(ru.Path, "/r/") {
		t.Fatalf("the signed copy has no revocation link: %s", cert.Text)
	}
	rv := e.Client()
	if got := rv.Get(ru.Path).Expect(http.StatusOK).Text("fieldset.dob legend"); got != "Fecha de nacimiento del paciente (Lucía)" {
		t.Fatalf("revocation identity check asks for %q", got)
	}
	rv.Post(ru.Path+"/code", nil).Expect(http.StatusOK)
	if m := e.smtp.Last(t); !strings.Contains(m.To, "ana@example.org") || !strings.Contains(m.Text, "Su código es") {
		t.Fatalf("revocation code went to %q", m.To)
	}
	if st, _ := e.App.Stories.Get(context.Background(), e.minorStory); st.Stage != "consented" {
		t.Fatalf("stage after signing = %s", st.Stage)
	}

	// The day before her 18th birthday nothing lapses; on it, it does.
	ctx := audit.WithActor(context.Background(), audit.System)
	before := len(e.smtp.Messages())
	e.App.Consent.SetClock(func() time.Time { return rec.MajorityOn.Add(-time.Hour) })
	if err := e.App.Consent.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if rec.Status != models.RecordValid || rec.MajorityLapsedAt != nil {
		t.Fatalf("lapsed before majority: %s", rec.Status)
	}
	e.App.Consent.SetClock(func() time.Time { return rec.MajorityOn.Add(2 * time.Hour) })
	for range 2 { // a second sweep changes nothing and mails nobody twice
		if err := e.App.Consent.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		e.runJobs(t)
	}
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if rec.Status != models.RecordExpired || rec.MajorityLapsedAt == nil {
		t.Fatalf("at majority the record is %s (lapsed %v)", rec.Status, rec.MajorityLapsedAt)
	}
	if st, _ := e.App.Stories.Get(context.Background(), e.minorStory); st.Stage != "withdrawn" {
		t.Fatalf("stage at majority = %s", st.Stage)
	}
	var takedowns int64
	e.App.DB.Model(&models.Job{}).Where("kind = ? AND idempotency_key = ?", consent.JobRevoked, consent.JobRevoked+":"+rec.ID).Count(&takedowns)
	if takedowns != 1 {
		t.Fatalf("%d takedown jobs at majority", takedowns)
	}
	msgs := e.smtp.Messages()[before:]
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "lucia@example.org" {
		t.Fatalf("renewal mails at majority: %+v", msgs)
	}
	renewal := e.smtp.Last(t)
	if !strings.Contains(renewal.Subject, "ahora usted decide") || !strings.Contains(renewal.Text, "Usted cumplió 18 años") ||
		!strings.Contains(renewal.Text, "Lucía vuelve a correr") {
		t.Fatalf("renewal mail %q: %s", renewal.Subject, renewal.Text)
	}
	for _, a := range []string{"consent.expired", "consent.majority_lapsed", "consent.majority_renewal_sent"} {
		if minorAuditCount(t, e.consentEnv, a) != 1 {
			t.Errorf("audit %s: %d entries", a, minorAuditCount(t, e.consentEnv, a))
		}
	}
}

// TestSponsoredRequestStatesWhoPays: a request flagged as sponsored must
// name who pays, its form states it in the marketing-and-payment element,
// and a form without that element (activated before it existed) serves
// unpaid requests but refuses sponsored ones.
func TestSponsoredRequestStatesWhoPays(t *testing.T) {
	e := newConsentEnv(t)
	path := "/stories/" + e.story + "/consent"
	base := url.Values{"signer": {"patient"}, "channels": {"website"}, "name_usage": {"first_name"}, "language": {"en"}, "link_days": {"14"}}
	form := cloneValues(base)
	form.Set("sponsored", "yes")
	e.staff.Post(path, form).Expect(http.StatusUnprocessableEntity).Contains("Name who pays")

	// The English form as it was before the element: no payment section.
	tpl, err := e.App.Templates.Active(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(tpl.Body, "## Whether anyone is paid")
	end := strings.Index(tpl.Body, "## When this authorization ends")
	if start < 0 || end < start {
		t.Fatal("the default form has no payment section")
	}
	old := tpl.Body[:start] + tpl.Body[end:]
	if m := consent.Readiness(&models.ConsentTemplate{Language: "en", Body: old}); len(m) != 1 || m[0].Element != "Marketing and payment" {
		t.Fatalf("activation of a form without the payment section: %+v", m)
	}
	if err := e.App.DB.Model(&models.ConsentTemplate{}).Where("id = ?", tpl.ID).
		Updates(map[string]any{"body": old, "text_sha256": consent.TextSHA256(old)}).Error; err != nil {
		t.Fatal(err)
	}
	form.Set("sponsor", "Acme Pharma")
	e.staff.Post(path, form).Expect(http.StatusUnprocessableEntity).Contains("Marketing and payment")
	var n int64
	e.App.DB.Model(&models.ConsentRequest{}).Where("story_id = ?", e.story).Count(&n)
	if n != 0 {
		t.Fatal("a sponsored request went out on a form that does not say who pays")
	}
	// Unpaid requests still work on the old form; then restore the new one.
	e.staff.Post(path, cloneValues(base)).Expect(http.StatusOK)
	var r models.ConsentRequest
	e.App.DB.Where("story_id = ?", e.story).Take(&r)
	e.staff.Post(path+"/"+r.ID+"/cancel", nil).Expect(http.StatusSeeOther)
	if err := e.App.DB.Model(&models.ConsentTemplate{}).Where("id = ?", tpl.ID).
		Updates(map[string]any{"body": tpl.Body, "text_sha256": tpl.TextSHA256}).Error; err != nil {
		t.Fatal(err)
	}

	e.staff.Post(path, form).Expect(http.StatusOK)
	r = models.ConsentRequest{}
	if err := e.App.DB.Where("story_id = ? AND sponsored = ?", e.story, true).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	if r.Sponsor != "Acme Pharma" || !strings.Contains(r.AuthorizationText, "is paid by Acme Pharma for sharing this story") {
		t.Fatalf("sponsored request %q: %s", r.Sponsor, r.AuthorizationText)
	}
	if !strings.Contains(r.AltAuthorizationText, "recibe pago de Acme Pharma") {
		t.Fatalf("the Spanish form does not say who pays: %s", r.AltAuthorizationText)
	}
	if minorAuditCount(t, e, "consent.sponsored") != 1 {
		t.Fatal("the sponsorship was not audited")
	}
}

// TestSpanishFormOrOnlyInEnglish: a request sent in English is read and
// signed in Spanish when the signer switches to Español (the record then
// names the Spanish template); with no Spanish form the page says, in
// Spanish, that the authorization exists only in English.
func TestSpanishFormOrOnlyInEnglish(t *testing.T) {
	e := newConsentEnv(t)
	send := func() string {
		e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"},
			"name_usage": {"first_name"}, "language": {"en"}, "link_days": {"14"}}).Expect(http.StatusOK)
		e.runJobs(t)
		u, _ := url.Parse(linkRE.FindString(e.smtp.Last(t).Text))
		return u.Path
	}
	path := send()
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	en := p.Get(path + "?lang=en").Expect(http.StatusOK)
	if en.Doc.Find(".authorization[lang=en]").Length() != 1 || en.Doc.Find("#only-in").Length() != 0 {
		t.Fatal("the English page does not show the English form")
	}
	es := p.Get(path + "?lang=es").Expect(http.StatusOK)
	if got := es.Doc.Find(".authorization[lang=es]").Text(); !strings.Contains(got, "Qué se compartirá") || !strings.Contains(got, "Sitio web") {
		t.Fatalf("Español does not load the Spanish form: %s", got)
	}
	if es.Doc.Find("#only-in").Length() != 0 || !strings.Contains(es.Text("#channels"), "Sitio web") {
		t.Fatal("the Spanish page says only English, or its channel labels are English")
	}
	confirmSign(p, path, signForm()).Expect(http.StatusOK).Contains("Gracias")
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	esTpl, _ := e.App.Templates.Active(context.Background(), "es")
	if rec.Language != "es" || rec.TemplateID != esTpl.ID || !strings.Contains(rec.AuthorizationText, "Qué se compartirá") {
		t.Fatalf("signed in %s with template %s", rec.Language, rec.TemplateID)
	}
	if chk := consent.VerifyScope(&rec); !chk.Matches {
		t.Fatalf("scope: %+v", chk)
	}
	// The public check in Spanish.
	e.Client().Get("/verify/" + rec.ID + "?lang=es&digest=" + rec.Digest).Expect(http.StatusOK).
		Contains("Este certificado es auténtico").Contains("Alcance del consentimiento").Contains("Sitio web")

	// No Spanish form: the page says so, in Spanish, and shows the English one.
	e.App.DB.Model(&models.ConsentTemplate{}).Where("language = ?", "es").Update("status", models.TemplateRetired)
	e.App.DB.Model(&models.Story{}).Where("id = ?", e.story).Update("stage", "drafting")
	path = send()
	p = e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	es = p.Get(path + "?lang=es").Expect(http.StatusOK)
	if got := es.Text("#only-in"); !strings.Contains(got, "Esta autorización solo existe en inglés") {
		t.Fatalf("only-in-English notice %q", got)
	}
	if es.Doc.Find(".authorization[lang=en]").Length() != 1 {
		t.Fatal("the English form is not shown, marked as English")
	}
}

// TestConsentKeptAtMajorityWhenConfigured: with
// STORYKEEP_CONSENT_KEEP_AT_MAJORITY the consent outlives the patient's
// 18th birthday and nobody is mailed.
func TestConsentKeptAtMajorityWhenConfigured(t *testing.T) {
	e := newMinorEnv(t, 17, 30, func(c *config.Config) { c.ConsentKeepAtMajority = true })
	res := e.staff.Post("/stories/"+e.minorStory+"/consent", e.sendForm(url.Values{"signer": {"representative"},
		"rep_name": {"Ana Gómez"}, "rep_relationship": {"madre"}, "rep_authority": {"madre de una menor"}})).Expect(http.StatusOK)
	e.runJobs(t)
	if n := len(e.smtp.Messages()); n != 0 {
		t.Fatalf("%d mails for a representative without email (the patient's address must not be used)", n)
	}
	// No email for the representative: she signs in person with the link shown to staff.
	u, err := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	if err != nil || u.Path == "" {
		t.Fatalf("no in-person link: %v", err)
	}
	p := e.Client()
	verifyDOB(p, u.Path, e.dob.Format("2006"), e.dob.Format("1"), e.dob.Format("2")).Expect(http.StatusSeeOther)
	form := signForm()
	form.Set("typed_name", "Ana Gómez")
	form.Set("rep_attest", "yes")
	confirmSign(p, u.Path, form).Expect(http.StatusOK).Contains("Gracias")
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.minorStory).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if !rec.Minor || rec.AssentName != "" {
		t.Fatalf("record minor %v assent %q", rec.Minor, rec.AssentName)
	}
	e.App.Consent.SetClock(func() time.Time { return rec.MajorityOn.Add(24 * time.Hour) })
	if err := e.App.Consent.Sweep(audit.WithActor(context.Background(), audit.System)); err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if rec.Status != models.RecordValid || rec.MajorityLapsedAt != nil || minorAuditCount(t, e.consentEnv, "consent.majority_lapsed") != 0 {
		t.Fatalf("with the lapse turned off the record is %s", rec.Status)
	}
	for _, m := range e.smtp.Messages() {
		if strings.Contains(string(m.Data), "ahora usted decide") {
			t.Fatal("a renewal request went out with the lapse turned off")
		}
	}
}
