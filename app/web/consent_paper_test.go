package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/mail/smtptest"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// postMultipart submits a multipart form with one file field, the CSRF
// token first, as a browser does.
func postMultipart(t *testing.T, e *apptest.Env, c *apptest.Client, path string, form url.Values, field, name string, file []byte) *apptest.Resp {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("_csrf", c.CSRF())
	for k, vs := range form {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := w.CreateFormFile(field, name)
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.Do(req)
}

// scanPNG is a small real PNG standing for a scanned signed form.
func scanPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 40, 20))
	for x := 5; x < 35; x++ {
		img.Set(x, 10+(x%4), color.Gray{Y: 0})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var letterPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func (e *consentEnv) paperForm() url.Values {
	return url.Values{"channels": {"website", "x"}, "name_usage": {"first_name"}, "expires_on": {time.Now().AddDate(1, 0, 0).Format("2006-01-02")},
		"signer_name": {"María López"}, "signed_on": {time.Now().UTC().Format("2006-01-02")}}
}

// openRequest sends a request from the staff page (in person: no email is
// needed for paper) and returns its id.
func (e *consentEnv) openRequest(t *testing.T) string {
	t.Helper()
	e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
	var r models.ConsentRequest
	if err := e.App.DB.Where("story_id = ?", e.story).Order("created_at DESC").Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (e *consentEnv) recordPaper(t *testing.T, req string, scan []byte) models.ConsentRecord {
	t.Helper()
	form := e.paperForm()
	form.Set("request", req)
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/authorization", form, "scan", "form.png", scan).Expect(http.StatusSeeOther)
	var rec models.ConsentRecord
	if err := e.App.DB.Where("request_id = ?", req).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	return rec
}

// mailsTo parses every message received for addr, oldest first.
func mailsTo(t *testing.T, srv *smtptest.Server, addr string) []*smtptest.Parsed {
	t.Helper()
	var out []*smtptest.Parsed
	for _, m := range srv.Messages() {
		if len(m.To) == 0 || m.To[0] != addr {
			continue
		}
		p, err := smtptest.Parse(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestPaperAuthorizationAndWrittenRevocationTakeTheESignPath is issue 19's
// "done when" for paper: a paper-signed authorization recorded by staff
// (scan sniffed, stored, hashed) makes the story consented through the same
// record, signed-scope digest and audit as an e-signature; it is approved
// and published exactly as an e-signed one; a written revocation then
// withdraws it (public page 410), queues the takedown, is audited, and the
// patient gets a dated receipt naming the story and record over SMTP.
func TestPaperAuthorizationAndWrittenRevocationTakeTheESignPath(t *testing.T) {
	e := newConsentEnv(t)
	req := e.openRequest(t)
	e.runJobs(t)

	page := e.staff.Get("/stories/" + e.story + "/consent/paper").Expect(http.StatusOK)
	if page.Doc.Find(`form[action$="/paper/authorization"] input[name=request][value="`+req+`"]`).Length() != 1 {
		t.Fatal("the paper page offers no form for the open request")
	}
	// The form to print: the authorization, boxes to tick, the request's id.
	pr := e.staff.Get("/stories/" + e.story + "/consent/" + req + "/print").Expect(http.StatusOK)
	if !strings.Contains(pr.Text("#paper-form"), req) || pr.Doc.Find("#paper-form .paper-boxes li").Length() < 4 ||
		!strings.Contains(pr.Text("#paper-form"), "Sus elecciones") || auditCount(t, e.Env, "consent.paper_print", req) != 1 {
		t.Fatalf("printable form: %q", pr.Text("main"))
	}
	// Not a scan: refused by its bytes, whatever its name says.
	form := e.paperForm()
	form.Set("request", req)
	bad := postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/authorization", form, "scan", "form.pdf", []byte("hello, I am not a PDF"))
	bad.Expect(http.StatusUnprocessableEntity)
	if bad.Doc.Find("#scan[aria-invalid=true]").Length() != 1 || bad.Doc.Find("#signer_name").AttrOr("value", "") != "María López" {
		t.Fatal("a refused scan is not marked, or the typed values were lost")
	}
	// A channel the request never asked about is refused as on the e-sign form.
	form.Set("channels", "facebook")
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/authorization", form, "scan", "form.png", scanPNG(t)).Expect(http.StatusUnprocessableEntity)
	if e.stage(t) != "awaiting_consent" {
		t.Fatal("a refused paper form moved the story")
	}
	// Another storyteller may not record paper on this story.
	other, _ := e.SignedIn(models.RoleStoryteller)
	postMultipart(t, e.Env, other, "/stories/"+e.story+"/consent/paper/authorization", e.paperForm(), "scan", "form.png", scanPNG(t)).Expect(http.StatusForbidden)

	scan := scanPNG(t)
	rec := e.recordPaper(t, req, scan)
	sum := sha256.Sum256(scan)
	if rec.Method != models.MethodPaper || rec.PaperScanSHA256 != hex.EncodeToString(sum[:]) || rec.PaperSignedOn == nil || rec.ScopeDigest == "" || rec.Status != models.RecordValid {
		t.Fatalf("paper record = method %q scan %q signed on %v scope %q status %s", rec.Method, rec.PaperScanSHA256, rec.PaperSignedOn, rec.ScopeDigest, rec.Status)
	}
	if e.stage(t) != "consented" {
		t.Fatalf("stage after paper consent = %s", e.stage(t))
	}
	e.staff.Get("/stories/" + e.story + "/consent").Expect(http.StatusOK).Contains("signed on paper")
	if chk := consent.VerifyScope(&rec); !chk.Matches {
		t.Fatalf("paper record scope: %s", chk.Problem)
	}
	tampered := rec
	tampered.PaperScanSHA256 = strings.Repeat("0", 64)
	if consent.VerifyScope(&tampered).Matches {
		t.Fatal("changing the recorded scan hash still matches the signed scope")
	}
	var signAudit models.AuditEntry
	if err := e.App.DB.Where("action = ? AND object_id = ?", "consent.sign", rec.ID).Take(&signAudit).Error; err != nil ||
		signAudit.ActorID != e.owner.ID || !strings.Contains(signAudit.Details, `"method":"paper"`) || !strings.Contains(signAudit.Details, rec.PaperScanSHA256) {
		t.Fatalf("paper sign audit %+v %v", signAudit, err)
	}
	// The scan is stored like other evidence and comes back byte for byte.
	var doc models.ConsentPaperDocument
	if err := e.App.DB.Where("record_id = ? AND kind = ?", rec.ID, models.PaperAuthorization).Take(&doc).Error; err != nil || doc.ContentType != "image/png" {
		t.Fatalf("scan document %+v %v", doc, err)
	}
	got := e.staff.Get("/stories/" + e.story + "/consent/paper/documents/" + doc.ID).Expect(http.StatusOK)
	if got.Body != string(scan) {
		t.Fatal("the downloaded scan differs from the upload")
	}
	publisher, _ := e.SignedIn(models.RolePublisher)
	publisher.Get("/stories/" + e.story + "/consent/paper/documents/" + doc.ID).Expect(http.StatusForbidden)

	// The certificate says paper and carries the scan's hash; the patient
	// (who has an email address) gets it with the revocation link.
	e.runJobs(t)
	certMail := e.smtp.Last(t)
	if len(certMail.Attachments) != 1 || !strings.Contains(certMail.To, "maria@example.org") {
		t.Fatalf("certificate mail %q to %q", certMail.Subject, certMail.To)
	}
	text := pdfText(t, certMail.Attachments[0].Data)
	for _, want := range []string{"Firmado en papel", rec.PaperScanSHA256, rec.Digest} {
		if !strings.Contains(text, want) {
			t.Errorf("paper certificate lacks %q", want)
		}
	}

	// It verifies like an e-signed certificate, and stops verifying once the
	// recorded scan hash is changed in the database.
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if chk, err := e.App.Consent.CheckCertificate(context.Background(), certMail.Attachments[0].Data); err != nil || !chk.OK || chk.Record == nil || chk.Record.ID != rec.ID {
		t.Fatalf("paper certificate check: %+v %v", chk, err)
	}
	e.App.DB.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Update("paper_scan_sha256", strings.Repeat("1", 64))
	if chk, _ := e.App.Consent.CheckCertificate(context.Background(), certMail.Attachments[0].Data); chk != nil && chk.OK {
		t.Fatal("a paper certificate still verifies after its scan hash changed in the database")
	}
	e.App.DB.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Update("paper_scan_sha256", rec.PaperScanSHA256)

	// Approved and published exactly as an e-signed story.
	e.staff.Post("/stories/"+e.story+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	reviewer, _ := e.SignedIn(models.RoleReviewer)
	review := reviewer.Get("/stories/" + e.story + "/review").Expect(http.StatusOK)
	ack := url.Values{"revision": {review.Doc.Find("input[name=revision]").AttrOr("value", "1")}}
	review.Doc.Find("input[name=finding]").Each(func(_ int, in *goquery.Selection) { ack.Add("finding", in.AttrOr("value", "")) })
	if len(ack["finding"]) > 0 {
		reviewer.Post("/stories/"+e.story+"/phi-ack", ack).Expect(http.StatusSeeOther)
	}
	reviewer.Post("/stories/"+e.story+"/transition", url.Values{"to": {"approved"}}).Expect(http.StatusSeeOther)
	publisher.Post("/stories/"+e.story+"/transition", url.Values{"to": {"published"}}).Expect(http.StatusSeeOther)
	var pub models.WebsitePublication
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&pub).Error; err != nil {
		t.Fatalf("no website publication: %v", err)
	}
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusOK)

	// A written revocation: the letter, the date received.
	today := time.Now().UTC().Format("2006-01-02")
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/revocation", url.Values{"record": {rec.ID}, "received_on": {"2001-01-01"}},
		"scan", "letter.pdf", letterPDF).Expect(http.StatusUnprocessableEntity)
	badLetter := postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/revocation", url.Values{"record": {rec.ID}, "received_on": {today}},
		"scan", "letter.pdf", []byte("<html>not a letter</html>")).Expect(http.StatusUnprocessableEntity)
	if badLetter.Doc.Find("#revocation-scan[aria-invalid=true]").Length() != 1 || badLetter.Doc.Find(`.alert a[href="#revocation-scan"]`).Length() != 1 {
		t.Fatal("a refused letter is not marked on its own field")
	}
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusOK)
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/revocation", url.Values{"record": {rec.ID}, "received_on": {today}},
		"scan", "letter.pdf", letterPDF).Expect(http.StatusSeeOther)
	e.Client().Get("/p/" + pub.Slug).Expect(http.StatusGone)
	if e.stage(t) != "withdrawn" {
		t.Fatalf("stage after written revocation = %s", e.stage(t))
	}
	e.App.DB.Where("id = ?", rec.ID).Take(&rec)
	if rec.Status != models.RecordRevoked || rec.RevokedAt == nil || !strings.Contains(rec.ActedInReliance, `"published":true`) {
		t.Fatalf("revoked record = %s %v %s", rec.Status, rec.RevokedAt, rec.ActedInReliance)
	}
	var jobs int64
	e.App.DB.Model(&models.Job{}).Where("kind = ?", consent.JobRevoked).Count(&jobs)
	if jobs != 1 {
		t.Fatalf("%d takedown jobs after the written revocation", jobs)
	}
	for _, a := range []string{"consent.revoked", "consent.revoke_written"} {
		if auditCount(t, e.Env, a, rec.ID) != 1 {
			t.Errorf("no %s audit entry", a)
		}
	}
	var letter models.ConsentPaperDocument
	lsum := sha256.Sum256(letterPDF)
	if err := e.App.DB.Where("record_id = ? AND kind = ?", rec.ID, models.PaperRevocation).Take(&letter).Error; err != nil ||
		letter.SHA256 != hex.EncodeToString(lsum[:]) || letter.ContentType != "application/pdf" {
		t.Fatalf("letter document %+v %v", letter, err)
	}
	// A second letter changes nothing.
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/revocation", url.Values{"record": {rec.ID}, "received_on": {today}},
		"scan", "letter.pdf", letterPDF).Expect(http.StatusConflict)

	// The dated receipt reaches the patient over SMTP, naming story and record.
	e.runJobs(t)
	receipt := e.smtp.Last(t)
	if !strings.Contains(receipt.To, "maria@example.org") || !strings.Contains(receipt.Subject, "recibo de su revocación") ||
		!strings.Contains(receipt.Text, "María camina de nuevo") || !strings.Contains(receipt.Text, rec.ID) ||
		!strings.Contains(receipt.Text, consent.FormatDate("es", *rec.RevokedAt)) {
		t.Fatalf("receipt %q to %q:\n%s", receipt.Subject, receipt.To, receipt.Text)
	}
	if auditCount(t, e.Env, "consent.patient_notice", rec.ID) != 1 {
		t.Error("the receipt is not audited")
	}
	if strings.Contains(e.Logs.String(), "maria@example.org") {
		t.Error("the patient's address reached the log")
	}
}

// TestPrintedCopyTaskWithoutEmail: a patient with no email address gets no
// certificate email, so staff see a task (story page and dashboard) to
// hand over a printed copy; recording it done is audited and clears it.
func TestPrintedCopyTaskWithoutEmail(t *testing.T) {
	e := newConsentEnv(t)
	ctx := audit.WithActor(context.Background(), audit.System)
	p, err := e.App.Patients.Create(ctx, e.owner.ID, patients.Input{FullName: "Ana Ruiz", DOB: "1970-02-03", Language: "es"})
	if err != nil {
		t.Fatal(err)
	}
	e.story = createStory(t, e.staff, storyForm(p.ID, e.owner.ID, "Ana vuelve a casa"))
	before := len(e.smtp.Messages())
	rec := e.recordPaper(t, e.openRequest(t), scanPNG(t))
	e.runJobs(t)
	if len(e.smtp.Messages()) != before {
		t.Fatal("mail was sent for a patient with no email address")
	}
	page := e.staff.Get("/stories/" + e.story + "/consent").Expect(http.StatusOK)
	task := page.Doc.Find(`#patient-tasks li[data-kind="print_copy"]`)
	if task.Length() != 1 || !strings.Contains(task.Text(), "printed copy") || !strings.Contains(task.Text(), rec.ID) {
		t.Fatalf("no printed-copy task on the story's consent page: %q", page.Text("main"))
	}
	dash := e.staff.Get("/").Expect(http.StatusOK)
	if !strings.Contains(dash.Text("#dashboard-patient-tasks"), "Ana vuelve a casa") {
		t.Fatalf("the dashboard does not list the task: %q", dash.Text("main"))
	}
	// Another storyteller's dashboard does not show it.
	other, _ := e.SignedIn(models.RoleStoryteller)
	if other.Get("/").Expect(http.StatusOK).Doc.Find("#dashboard-patient-tasks").Length() != 0 {
		t.Fatal("a task shows on the dashboard of someone not on the story")
	}
	action, _ := task.Find("form").Attr("action")
	other.Post(action, url.Values{"note": {"x"}}).Expect(http.StatusForbidden)
	e.staff.Post(action, url.Values{"note": {"Entregada en recepción"}}).Expect(http.StatusSeeOther)
	e.staff.Post(action, nil).Expect(http.StatusConflict)
	var tk models.ConsentPatientTask
	e.App.DB.Where("record_id = ? AND kind = ?", rec.ID, models.TaskPrintCopy).Take(&tk)
	if tk.DoneAt == nil || tk.DoneBy != e.owner.ID || tk.Note != "Entregada en recepción" {
		t.Fatalf("task after done = %+v", tk)
	}
	if auditCount(t, e.Env, "consent.task_done", tk.ID) != 1 || auditCount(t, e.Env, "consent.task_open", tk.ID) != 1 {
		t.Fatal("opening or completing the task is not audited")
	}
	if e.staff.Get("/").Doc.Find("#dashboard-patient-tasks").Length() != 0 {
		t.Fatal("a done task is still on the dashboard")
	}
	e.staff.Get("/stories/" + e.story + "/consent").Expect(http.StatusOK).Contains("done")
}

// TestPatientNoticesOverSMTP: the patient (not only staff) is emailed
// before the consent ends (the configured 7-day window), when it ends, and
// when an edit supersedes it.
func TestPatientNoticesOverSMTP(t *testing.T) {
	e := newConsentEnv(t)
	rec := e.recordPaper(t, e.openRequest(t), scanPNG(t))
	e.runJobs(t)
	ctx := audit.WithActor(context.Background(), audit.System)
	notices := func() []*smtptest.Parsed {
		var out []*smtptest.Parsed
		for _, m := range mailsTo(t, e.smtp, "maria@example.org") {
			if !strings.Contains(m.Subject, "autorización firmada") && !strings.Contains(m.Subject, "permiso") {
				out = append(out, m)
			}
		}
		return out
	}

	// Six days before the end: the 7-day notice, once, not the 30-day one.
	e.App.Consent.SetClock(func() time.Time { return rec.ExpiresOn.AddDate(0, 0, -6) })
	for range 2 {
		if err := e.App.Consent.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		e.runJobs(t)
	}
	got := notices()
	if len(got) != 1 || !strings.Contains(got[0].Subject, "termina pronto") || !strings.Contains(got[0].Text, "7 días") ||
		!strings.Contains(got[0].Text, "María camina de nuevo") || !strings.Contains(got[0].Text, rec.ID) {
		t.Fatalf("before-expiry notices: %d %+v", len(got), got)
	}
	// At the end: expired, and the patient is told.
	e.App.Consent.SetClock(func() time.Time { return rec.ExpiresOn.Add(time.Hour) })
	if err := e.App.Consent.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	got = notices()
	if len(got) != 2 || !strings.Contains(got[1].Subject, "ha terminado") {
		t.Fatalf("expiry notice: %d", len(got))
	}
	e.App.Consent.SetClock(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })

	// A second story, consented and then edited: the superseded notice.
	e.story = createStory(t, e.staff, storyForm(e.patient, e.owner.ID, "María sale del hospital"))
	rec2 := e.recordPaper(t, e.openRequest(t), scanPNG(t))
	e.runJobs(t)
	st, _ := e.App.Stories.Get(ctx, e.story)
	in := stories.InputOf(st)
	in.Body += "\n\nOne more line."
	if res, err := e.App.Stories.Update(ctx, stories.Actor{UserID: e.owner.ID, Role: models.RoleStoryteller}, e.story, st.Revision, in); err != nil || !res.Superseded {
		t.Fatalf("update: %v", err)
	}
	e.runJobs(t)
	got = notices()
	last := got[len(got)-1]
	if len(got) != 3 || !strings.Contains(last.Subject, "ya no cubre") || !strings.Contains(last.Text, "María sale del hospital") || !strings.Contains(last.Text, rec2.ID) {
		t.Fatalf("superseded notice: %d %q", len(got), last.Subject)
	}
}

// TestEsignWithdrawalTurnsMailIntoPaperTasks: once the patient withdraws
// consent to electronic records (recorded, audited), nothing more is
// emailed to them: the revocation receipt becomes a task to post it.
func TestEsignWithdrawalTurnsMailIntoPaperTasks(t *testing.T) {
	e := newConsentEnv(t)
	rec := e.recordPaper(t, e.openRequest(t), scanPNG(t))
	e.runJobs(t)
	today := time.Now().UTC().Format("2006-01-02")
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/esign", url.Values{"esign_received_on": {"2999-01-01"}}, "", "", nil).Expect(http.StatusUnprocessableEntity)
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/esign", url.Values{"esign_received_on": {today}}, "scan", "letter.pdf", letterPDF).Expect(http.StatusSeeOther)
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/esign", url.Values{"esign_received_on": {today}}, "", "", nil).Expect(http.StatusConflict)
	if auditCount(t, e.Env, "consent.esign_withdrawn", e.patient) != 1 {
		t.Fatal("the withdrawal of e-consent is not audited")
	}
	if rec2, _ := e.App.Consent.Record(context.Background(), rec.ID); rec2.Status != models.RecordValid {
		t.Fatal("withdrawing e-consent revoked the authorization")
	}
	before := len(e.smtp.Messages())
	postMultipart(t, e.Env, e.staff, "/stories/"+e.story+"/consent/paper/revocation", url.Values{"record": {rec.ID}, "received_on": {today}},
		"scan", "letter.pdf", letterPDF).Expect(http.StatusSeeOther)
	e.runJobs(t)
	if len(e.smtp.Messages()) != before {
		t.Fatal("mail went to a patient who withdrew consent to electronic records")
	}
	// A new request for this patient is not emailed either.
	e.story = createStory(t, e.staff, storyForm(e.patient, e.owner.ID, "María sale del hospital"))
	e.openRequest(t)
	e.runJobs(t)
	if len(e.smtp.Messages()) != before {
		t.Fatal("an invitation was emailed to a patient who withdrew consent to electronic records")
	}
	e.story = rec.StoryID
	page := e.staff.Get("/stories/" + e.story + "/consent").Expect(http.StatusOK)
	if page.Doc.Find(`#patient-tasks li[data-kind="paper_only"]`).Length() != 1 || page.Doc.Find(`#patient-tasks li[data-kind="paper_receipt"]`).Length() != 1 {
		t.Fatalf("paper tasks missing: %q", page.Text("#patient-tasks"))
	}
}

// TestCompletionPageSaysCertificateBeingPrepared: when the signed PDF cannot
// be made at once (the timestamp authority is unreachable), the completion
// page's download answers "being prepared" with the same link, which works
// once the PDF can be made; strangers still get nothing.
func TestCompletionPageSaysCertificateBeingPrepared(t *testing.T) {
	e := newConsentEnv(t)
	e.App.Consent.Sealer.TSAURL = "http://127.0.0.1:1/unreachable"
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	done := confirmSign(p, path, signForm()).Expect(http.StatusOK)
	dl := done.Doc.Find(`a[href$="/certificate"]`).AttrOr("href", "")
	wait := p.Get(dl).Expect(http.StatusServiceUnavailable).Contains("Estamos preparando su formulario firmado")
	if wait.Doc.Find(`a[href="`+dl+`"]`).Length() != 1 || wait.Header.Get("Retry-After") == "" {
		t.Fatal("the being-prepared page lacks the retry link or Retry-After")
	}
	e.Client().Get(dl).Expect(http.StatusNotFound)
	e.App.Consent.Sealer.TSAURL = "" // the authority is back (sealed without a timestamp here)
	got := p.Get(dl).Expect(http.StatusOK)
	if !strings.HasPrefix(got.Body, "%PDF-") {
		t.Fatal("the retried download is not a PDF")
	}
}

// TestESignedWithoutEmailGetsPrintTaskAndRevocationReceipt: the e-sign path
// shares the patient's copy and receipt: signing in person without an email
// address opens the printed-copy task, and an electronic revocation by a
// patient with an address sends the same dated receipt over SMTP.
func TestESignedWithoutEmailGetsPrintTaskAndRevocationReceipt(t *testing.T) {
	e := newConsentEnv(t)
	ctx := audit.WithActor(context.Background(), audit.System)
	p, err := e.App.Patients.Create(ctx, e.owner.ID, patients.Input{FullName: "Ana Ruiz", DOB: "1970-02-03", Language: "es"})
	if err != nil {
		t.Fatal(err)
	}
	e.story = createStory(t, e.staff, storyForm(p.ID, e.owner.ID, "Ana vuelve a casa"))
	res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
	link, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	pc := e.Client()
	verifyDOB(pc, link.Path, "1970", "2", "3").Expect(http.StatusSeeOther)
	sign := signForm()
	sign.Set("typed_name", "Ana Ruiz")
	sign.Set("typed_signature", "Ana Ruiz")
	confirmSign(pc, link.Path, sign).Expect(http.StatusOK)
	var rec models.ConsentRecord
	e.App.DB.Where("story_id = ?", e.story).Take(&rec)
	var tasks int64
	e.App.DB.Model(&models.ConsentPatientTask{}).Where("record_id = ? AND kind = ? AND done_at IS NULL", rec.ID, models.TaskPrintCopy).Count(&tasks)
	if rec.Method != models.MethodEsign || tasks != 1 {
		t.Fatalf("e-signed without email: method %q, %d printed-copy tasks", rec.Method, tasks)
	}

	// María (with an address) signs electronically and revokes electronically.
	e.story = createStory(t, e.staff, storyForm(e.patient, e.owner.ID, "María camina otra vez"))
	path := e.send(t)
	pm := e.Client()
	verifyDOB(pm, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(pm, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	revoke, _ := url.Parse(linkRE.FindString(strings.ReplaceAll(e.smtp.Last(t).Text, "\n", " ")))
	rv := e.Client()
	verifyDOB(rv, revoke.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	rv.Post(revoke.Path, nil).Expect(http.StatusOK).Contains("Su permiso está cancelado")
	e.runJobs(t)
	var rec2 models.ConsentRecord
	e.App.DB.Where("story_id = ?", e.story).Take(&rec2)
	receipt := e.smtp.Last(t)
	if !strings.Contains(receipt.Subject, "recibo de su revocación") || !strings.Contains(receipt.Text, rec2.ID) || !strings.Contains(receipt.Text, "María camina otra vez") {
		t.Fatalf("electronic revocation receipt %q:\n%s", receipt.Subject, receipt.Text)
	}
}
