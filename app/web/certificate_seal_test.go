package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/pdfseal/tsatest"
	"github.com/storykeep/storykeep/models"
)

// TestCertificateSealedAndVerifiable signs a consent and checks the
// certificate end to end: sealed with a timestamp from a real RFC 3161
// authority (pdfsig agrees), no revocation link in it (F5), verifiable by
// upload and by SHA-256 at /verify, failing after any changed byte or any
// changed signed value in the database; publishers cannot download it and
// the export's staff evidence copy verifies too.
func TestCertificateSealedAndVerifiable(t *testing.T) {
	e := newConsentEnv(t)
	e.App.Consent.Sealer.TSAURL = tsatest.Start(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	done := confirmSign(p, path, signForm()).Expect(http.StatusOK)
	// The completion page offers the PDF at once, before the job has run.
	dl := done.Doc.Find(`a[href$="/certificate"]`).AttrOr("href", "")
	if dl != path+"/certificate" || !strings.Contains(done.Body, "Descargar su formulario firmado") {
		t.Fatalf("the completion page offers no certificate: %q", dl)
	}
	got := p.Get(dl).Expect(http.StatusOK)
	if got.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(got.Body, "%PDF-") {
		t.Fatal("the completion page's download is not a PDF")
	}
	e.Client().Get(dl).Expect(http.StatusNotFound) // only the browser that signed
	e.runJobs(t)
	m := e.smtp.Last(t)
	if len(m.Attachments) != 1 {
		t.Fatalf("certificate mail has %d attachments", len(m.Attachments))
	}
	pdf := m.Attachments[0].Data
	if !bytes.Equal(pdf, []byte(got.Body)) {
		t.Error("the emailed certificate differs from the one downloaded on the completion page")
	}
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "/r/") {
		t.Fatal("the certificate email lacks the revocation link")
	}
	text := pdfText(t, pdf)
	if strings.Contains(text, "/r/") || bytes.Contains(pdf, []byte("/r/")) {
		t.Error("F5: the stored certificate carries the revocation link")
	}
	for _, want := range []string{rec.ID, e.story, "Certificado de autorización firmada", "fecha de nacimiento; 0 intentos fallidos antes",
		"Aceptó firmar electrónicamente", "María López", "Sitio web, X"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate lacks %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("pdfsig", file).CombinedOutput(); !strings.Contains(string(out), "Signature is Valid") || !strings.Contains(string(out), "Total document signed") {
		t.Errorf("pdfsig:\n%s", out)
	}
	// Anyone can recompute the digest from the PDF alone, with any tool.
	dir := t.TempDir()
	if out, err := exec.Command("pdfdetach", "-saveall", "-o", dir, file).CombinedOutput(); err != nil {
		t.Fatalf("pdfdetach: %v %s", err, out)
	}
	frozen, err := os.ReadFile(filepath.Join(dir, "frozen-content.json"))
	if sum := sha256.Sum256(frozen); err != nil || hex.EncodeToString(sum[:]) != rec.Digest {
		t.Errorf("the attached frozen content does not hash to the digest %s (%v)", rec.Digest, err)
	}
	if scope, err := os.ReadFile(filepath.Join(dir, "signed-scope.json")); err != nil || !strings.Contains(string(scope), rec.ID) {
		t.Errorf("signed-scope.json: %v %s", err, scope)
	}
	// The scope digest too: the canonical scope's SHA-256 is the record's.
	canonical, err := os.ReadFile(filepath.Join(dir, "signed-scope-canonical.json"))
	if sum := sha256.Sum256(canonical); err != nil || rec.ScopeDigest == "" || hex.EncodeToString(sum[:]) != rec.ScopeDigest {
		t.Errorf("the attached canonical scope does not hash to the scope digest %s (%v)", rec.ScopeDigest, err)
	}
	if want, _, err := consent.SignedScope(&rec); err != nil || !bytes.Equal(want, canonical) {
		t.Errorf("the attached canonical scope is not SignedScope of the record (%v)", err)
	}
	ctx := context.Background()
	c, err := e.App.Consent.CheckCertificate(ctx, pdf)
	if err != nil || !c.OK || !c.Timestamped || c.Record == nil || c.Record.ID != rec.ID {
		t.Fatalf("check: %+v %v", c, err)
	}

	// /verify by upload and by SHA-256, in Spanish (the patient's language).
	res := uploadCertificate(t, e, pdf).Expect(http.StatusOK)
	res.Contains("Este certificado es auténtico").Contains(rec.ID).Contains("válido")
	if strings.Contains(res.Body, "María") {
		t.Error("/verify shows the patient's name")
	}
	e.Client().Post("/verify", url.Values{"sha256": {c.SHA256}, "lang": {"en"}}).Expect(http.StatusOK).Contains("This certificate is genuine")
	e.Client().Post("/verify", url.Values{"sha256": {strings.Repeat("a", 64)}, "lang": {"en"}}).Expect(http.StatusUnprocessableEntity)

	// Any changed byte fails.
	for _, at := range []int{20, len(pdf) / 3, len(pdf) - 30} {
		bad := append([]byte{}, pdf...)
		bad[at] ^= 0x04
		if c, _ := e.App.Consent.CheckCertificate(ctx, bad); c != nil && c.OK {
			t.Errorf("a PDF changed at byte %d still verifies", at)
		}
	}
	uploadCertificate(t, e, append(append([]byte{}, pdf[:100]...), append([]byte{'X'}, pdf[101:]...)...)).Expect(http.StatusUnprocessableEntity)

	// Publishers cannot download certificates (F5); the others can.
	pub, _ := e.SignedIn(models.RolePublisher)
	pub.Get("/consents/" + rec.ID + "/certificate").Expect(http.StatusForbidden)
	e.staff.Get("/consents/" + rec.ID + "/certificate").Expect(http.StatusOK)

	// The export's staff evidence copy: no link, no signature image, verifies.
	name, staffPDF, err := e.App.Consent.StoryCertificate(ctx, e.story)
	if err != nil || !strings.Contains(name, "staff-copy") {
		t.Fatalf("staff copy %q: %v", name, err)
	}
	st := pdfText(t, staffPDF)
	if !strings.Contains(st, "Copia de evidencia para el personal") || strings.Contains(st, "/r/") || bytes.Contains(staffPDF, []byte("/r/")) {
		t.Error("the staff evidence copy is not marked or carries the revocation link")
	}
	// The patient chose first name only: the full name is withheld.
	if strings.Contains(st, "María López") || strings.Contains(st, "López") || !strings.Contains(st, "[name withheld]") {
		t.Errorf("the staff evidence copy shows a withheld name: %s", st)
	}
	if c, err := e.App.Consent.CheckCertificate(ctx, staffPDF); err != nil || !c.OK {
		t.Errorf("staff copy check: %+v %v", c, err)
	}
	// The canonical scope names the signer: not in a copy that withholds names.
	staffFile := filepath.Join(t.TempDir(), "s.pdf")
	if err := os.WriteFile(staffFile, staffPDF, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdfdetach", "-list", staffFile).CombinedOutput(); err != nil || !strings.Contains(string(out), "frozen-content.json") ||
		strings.Contains(string(out), "signed-scope-canonical.json") {
		t.Errorf("staff copy attachments (%v):\n%s", err, out)
	}

	// A signed value changed in the database fails the check.
	if err := e.App.DB.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Update("channels", `["website","x","facebook"]`).Error; err != nil {
		t.Fatal(err)
	}
	c, err = e.App.Consent.CheckCertificate(ctx, pdf)
	if err != nil || c == nil || c.OK {
		t.Fatalf("a changed signed scope in the database still verifies: %+v %v", c, err)
	}
	if !strings.Contains(strings.Join(c.Problems, "; "), "recomputed from the record now differs from the certificate's canonical scope") {
		t.Errorf("the check does not report the changed canonical scope: %q", c.Problems)
	}
}

func uploadCertificate(t *testing.T, e *consentEnv, pdf []byte) *apptest.Resp {
	t.Helper()
	cl := e.Client()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", cl.CSRF())
	fw, _ := w.CreateFormFile("pdf", "c.pdf")
	_, _ = fw.Write(pdf)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/verify", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return cl.Do(req)
}

// TestF5RevocationLinkNotInStaffCopies: the revocation link reaches only
// the signer (email body), never the stored certificate, the staff
// download or the export's evidence copy, and publishers cannot download
// certificates at all.
func TestF5RevocationLinkNotInStaffCopies(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	m := e.smtp.Last(t)
	revoke := linkRE.FindString(strings.ReplaceAll(m.Text, "\n", " "))
	u, _ := url.Parse(revoke)
	if u == nil || !strings.HasPrefix(u.Path, "/r/") {
		t.Fatalf("the certificate email lacks the revocation link: %q", m.Text)
	}
	token := strings.TrimPrefix(u.Path, "/r/")
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	staffPDF := e.staff.Get("/consents/" + rec.ID + "/certificate").Expect(http.StatusOK).Body
	_, bundlePDF, err := e.App.Consent.StoryCertificate(context.Background(), e.story)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"emailed": m.Attachments[0].Data, "staff download": []byte(staffPDF), "export copy": bundlePDF} {
		if bytes.Contains(b, []byte(token)) || strings.Contains(pdfText(t, b), token) || strings.Contains(pdfText(t, b), "/r/") {
			t.Errorf("the %s certificate carries the revocation token", name)
		}
	}
	pub, _ := e.SignedIn(models.RolePublisher)
	pub.Get("/consents/" + rec.ID + "/certificate").Expect(http.StatusForbidden)
	if res := pub.Get("/stories/" + e.story + "/consent"); res.Status == http.StatusOK && res.Doc.Find(`a[href$="/certificate"]`).Length() != 0 {
		t.Error("the consent page offers publishers the certificate")
	}
}
