package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storykeep/storykeep/app/mail/smtptest"
)

// TestRepresentativeSignsForMinorOnPhone (issue 19 items 7 and 9): staff ask
// a mother to sign for her 16-year-old son; she reads the invitation on her
// phone, switches the pages to Español, proves the link with her son's date
// of birth (labelled as his), reads the Spanish authorization, attests her
// authority, types her own name, lets her son assent, signs and downloads
// the PDF on the completion page. Later she revokes from the link in her
// email after the same identity check. axe finds no serious or critical
// violation on any of her pages.
func TestRepresentativeSignsForMinorOnPhone(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t, smtptest.Options{})
	srv := StartServer(t,
		"STORYKEEP_MAIL_MODE=smtp",
		"STORYKEEP_SMTP_HOST="+mail.Host,
		"STORYKEEP_SMTP_PORT="+strconv.Itoa(mail.Port),
		"STORYKEEP_SMTP_TLS=none",
		"STORYKEEP_SMTP_FROM=stories@hospital.test",
		"STORYKEEP_WORKERS=2",
	)
	b := NewBrowser(t, srv.URL)
	b.within(4 * time.Minute)

	admin := b.NewPage("admin")
	signIn(admin, srv.AdminEmail, srv.AdminPassword)
	changePassword(admin, srv.AdminPassword, "lantern orchard velvet 47")

	dob := time.Now().UTC().AddDate(-16, 0, -20)
	admin.Open("/patients/new")
	admin.Type("#full_name", "Mateo Ruiz")
	admin.Type("#preferred_name", "Mateo")
	admin.Type("#dob", dob.Format("2006-01-02"))
	admin.Type("#email", "mateo@example.org")
	admin.Do(chromedp.SetValue(chromedp.CSS("#language"), "es"))
	admin.Click(`main form button[type=submit]`)
	patientID := strings.TrimPrefix(admin.Path(), "/patients/")
	if !strings.HasPrefix(admin.Path(), "/patients/") || patientID == "new" {
		t.Fatalf("after adding the patient: on %s (errors %v)", admin.Path(), admin.Texts(".error"))
	}
	admin.Open("/stories/new?patient=" + patientID)
	admin.Type("#title", "Mateo vuelve al equipo")
	admin.Type("#summary", "Tras su operación, Mateo juega otra vez.")
	admin.Type("#body", "Mateo volvió a jugar al fútbol tres meses después de su operación.")
	admin.check(`input[name=channels][value=website]`)
	admin.Click(`form.story-form button[type=submit]`)
	storyPath := admin.Path()
	if strings.Count(storyPath, "/") != 2 || !strings.HasPrefix(storyPath, "/stories/") {
		t.Fatalf("after creating the story: on %s (errors %v)", storyPath, admin.Texts(".error"))
	}

	// Staff first try to let the 16-year-old sign alone: refused.
	admin.Open(storyPath + "/consent")
	admin.check(`input[name=signer][value=patient]`)
	admin.check(`#channels input[value=website]`)
	admin.check(`input[name=name_usage][value=first_name]`)
	admin.Do(chromedp.SetValue(chromedp.CSS("#language"), "en"))
	if st := admin.Submit(chromedp.Click(chromedp.CSS(`form[action$="/consent"] button[type=submit]`))); st != 422 {
		t.Fatalf("a minor signing alone: status %d", st)
	}
	if e := admin.Text("#signer-error"); !strings.Contains(e, "The patient is 16, under 18") {
		t.Fatalf("a minor signing alone: signer error %q", e)
	}
	// The request goes to his mother, in English: she will switch.
	admin.check(`input[name=signer][value=representative]`)
	admin.check(`#channels input[value=website]`)
	admin.check(`input[name=name_usage][value=first_name]`)
	admin.Do(chromedp.SetValue(chromedp.CSS("#rep_name"), "Carmen Ruiz"),
		chromedp.SetValue(chromedp.CSS("#rep_relationship"), "madre"),
		chromedp.SetValue(chromedp.CSS("#rep_authority"), "madre de un menor"),
		chromedp.SetValue(chromedp.CSS("#rep_email"), "carmen@example.org"),
		chromedp.SetValue(chromedp.CSS("#language"), "en"))
	admin.Click(`form[action$="/consent"] button[type=submit]`)
	if h := admin.Heading(); !strings.HasPrefix(h, "Consent link for") {
		t.Fatalf("after sending to the representative: h1 %q, errors %v", h, admin.Texts(".error"))
	}

	inv := waitMail(t, mail, "carmen@example.org", 20*time.Second, func(m *smtptest.Parsed) bool { return strings.Contains(m.Text, "/c/") })
	link := mailLink(t, inv, "c")
	pt := b.NewPhonePage("mother")
	pt.Open(link.Path)
	pt.Click(`.patient-lang a`) // Español
	if h := pt.Heading(); h != "Primero, confirme que es usted" {
		t.Fatalf("after switching to Español: h1 %q", h)
	}
	if l := pt.Text("fieldset.dob legend"); l != "Fecha de nacimiento del paciente (Mateo)" {
		t.Errorf("identity check asks for %q", l)
	}
	pt.CheckA11y()
	pt.Type("#dob-day", strconv.Itoa(dob.Day()))
	pt.Type("#dob-month", strconv.Itoa(int(dob.Month())))
	pt.Type("#dob-year", strconv.Itoa(dob.Year()))
	pt.Click(`form[action$="/verify"] button[type=submit]`)
	if got := pt.Text("#rep-for"); got != "Usted firma por Mateo como su madre." {
		t.Fatalf("review page addresses her as %q (h1 %q)", got, pt.Heading())
	}
	if auth := pt.Text(`.authorization[lang=es]`); !strings.Contains(auth, "Qué se compartirá") || !strings.Contains(auth, "Carmen Ruiz") {
		t.Errorf("the Spanish authorization is not shown: %q", auth)
	}
	pt.CheckA11y()
	pt.check("#ch-website")
	pt.check("#nu-first_name")
	pt.Click(`#choices-form button[type=submit]`)
	if h := pt.Heading(); h != "Lea y firme su autorización" {
		t.Fatalf("after choosing: h1 %q, errors %v", h, pt.Texts(".error-summary li, .field-error"))
	}
	if s := pt.Text("#rep-statement"); !strings.Contains(s, "Yo, Carmen Ruiz, declaro que soy madre de Mateo") {
		t.Errorf("attestation %q", s)
	}
	pt.CheckA11y()
	pt.check("#esign")
	pt.check("#rep_attest")
	pt.check("#assent")
	pt.Type("#assent_name", "Mateo")
	pt.Type("#typed_name", "Carmen Ruiz")
	pt.Type("#typed_signature", "Carmen Ruiz")
	pt.ScreenshotViewport("representative-phone")
	pt.Click(`#sign-form button[type=submit]`)
	if h := pt.Heading(); h != "Gracias" {
		t.Fatalf("after signing: h1 %q, errors %v", h, pt.Texts(".error-summary li, .field-error"))
	}
	pt.CheckA11y()
	// The completion page offers the signed PDF.
	href := Eval[string](pt, `(document.querySelector("main a[download]") || {}).getAttribute ? document.querySelector("main a[download]").getAttribute("href") : ""`)
	if !strings.HasSuffix(href, "/certificate") {
		t.Fatalf("completion page download link %q", href)
	}
	head := Eval[string](pt, `fetch(`+jsString(href)+`).then(r => r.headers.get("content-type") === "application/pdf" ? r.arrayBuffer() : null).then(b => b ? String.fromCharCode(...new Uint8Array(b.slice(0, 5))) : "")`)
	if head != "%PDF-" {
		t.Fatalf("the completion page's PDF starts %q", head)
	}

	// Later: she revokes from her email, after the same identity check.
	cert := waitMail(t, mail, "carmen@example.org", 30*time.Second, func(m *smtptest.Parsed) bool { return len(m.Attachments) > 0 })
	revoke := mailLink(t, cert, "r")
	rv := b.NewPhonePage("mother-revokes")
	rv.Open(revoke.Path + "?lang=es")
	if l := rv.Text("fieldset.dob legend"); l != "Fecha de nacimiento del paciente (Mateo)" {
		t.Errorf("revocation identity check asks for %q", l)
	}
	rv.CheckA11y()
	rv.Type("#dob-day", strconv.Itoa(dob.Day()))
	rv.Type("#dob-month", strconv.Itoa(int(dob.Month())))
	rv.Type("#dob-year", strconv.Itoa(dob.Year()))
	rv.Click(`form[action$="/verify"] button[type=submit]`)
	if h := rv.Heading(); h != "Cancelar su permiso" {
		t.Fatalf("after the identity check: h1 %q", h)
	}
	rv.CheckA11y()
	rv.Click(`main form button[type=submit]`)
	if h := rv.Heading(); h != "Su permiso está cancelado" {
		t.Fatalf("after revoking: h1 %q", h)
	}
	rv.CheckA11y()
}
