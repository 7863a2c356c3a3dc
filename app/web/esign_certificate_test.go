package web_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// TestEsignDisclosureOnRecordAndCertificate (issue 19 item 2): the signer
// is shown the complete e-sign consumer disclosure (scope, paper and its
// cost, hardware and software, updating the email, withdrawing and what it
// means) with the organisation's real contact details, in their language;
// the record keeps its version, text and SHA-256; and the certificate
// prints the agreement with version and hash, the disclosure in full, the
// organisation's contact routes, and each time in UTC and in the
// organisation's time zone.
func TestEsignDisclosureOnRecordAndCertificate(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	page := p.Post(path+"/confirm", signForm()).Expect(http.StatusOK)
	shown := page.Text("#esign-h + p") + " " + page.Doc.Find(`section[aria-labelledby="esign-h"]`).Text()
	for _, want := range []string{"versión 2", "Qué abarca", "sin costo", "navegador", "PDF", "cambiar la dirección de correo electrónico",
		"Puede retirar este acuerdo", "en papel", "+1 555 010 0100", "privacy@hospital.test", "1 Calle Mayor, Springfield, IL 62701"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the e-sign disclosure shown lacks %q", want)
		}
	}
	if h := page.Doc.Find(`#sign-form input[name=esign_sha256]`).AttrOr("value", ""); h != consent.TextSHA256(consent.EsignDisclosureFor("es", apptest.TestOrganisation)) {
		t.Fatalf("the confirm page does not carry the shown disclosure's hash: %q", h)
	}
	// A disclosure other than the one the record would keep is refused.
	ctx := context.Background()
	r, err := e.App.Consent.Find(ctx, strings.TrimPrefix(path, "/c/"))
	if err != nil {
		t.Fatal(err)
	}
	in := consent.SignInput{Channels: []string{"website", "x"}, NameUsage: "first_name", ExpiresOn: time.Now().AddDate(1, 0, 0).Format("2006-01-02"),
		EsignAgreed: true, TypedName: "María López", TypedSignature: "María López", EsignLanguage: "es", EsignSHA256: consent.TextSHA256("another text")}
	fin, err := e.App.Consent.Final(ctx, r, in)
	if err != nil {
		t.Fatal(err)
	}
	in.AuthSHA256 = fin.SHA256
	if _, err := e.App.Consent.Sign(ctx, r, in); !errors.Is(err, consent.ErrFormChanged) {
		t.Fatalf("signing under a disclosure not shown: %v", err)
	}
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	want := consent.EsignDisclosureFor("es", apptest.TestOrganisation)
	if rec.EsignVersion != consent.EsignDisclosureVersion || rec.EsignText != want || rec.EsignSHA256 != consent.TextSHA256(want) || rec.EsignLanguage != "es" {
		t.Fatalf("the record keeps version %q, language %q, hash %q", rec.EsignVersion, rec.EsignLanguage, rec.EsignSHA256)
	}
	// English has the same elements.
	en := consent.EsignDisclosureFor("en", apptest.TestOrganisation)
	for _, w := range []string{"What it covers", "free of charge", "web browser", "change the email address", "withdraw this agreement", "Withdrawing means", "+1 555 010 0100"} {
		if !strings.Contains(en, w) {
			t.Errorf("the English disclosure lacks %q", w)
		}
	}

	text := strings.Join(strings.Fields(pdfText(t, e.smtp.Last(t).Attachments[0].Data)), " ")
	chicago, _ := time.LoadLocation("America/Chicago")
	signedLocal := rec.SignedAt.In(chicago).Format("2006-01-02 15:04:05 MST")
	for _, w := range []string{"Acuerdo de firma electrónica", "versión 2, idioma es", rec.EsignSHA256, "Puede retirar este acuerdo",
		"Hospital Señora de la Peña, Inc. · 1 Calle Mayor, Springfield, IL 62701 · +1 555 010 0100 · privacy@hospital.test",
		rec.SignedAt.UTC().Format("2006-01-02 15:04:05") + " UTC · " + signedLocal, "America/Chicago"} {
		if !strings.Contains(text, w) {
			t.Errorf("the certificate lacks %q", w)
		}
	}
}
