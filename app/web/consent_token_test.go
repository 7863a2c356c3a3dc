package web_test

import (
	"archive/zip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// TestF5RevokeTokenNeverInDatabaseInPlaintext (issue 19 item 6): after a
// whole signing flow (invitation, identity check, final confirmation,
// signature, completion page, certificate job and its email), neither
// revocation link the patient was given (on the completion page and in the
// email) is found in any column of any table, in any form it could be
// written in (as is, base64, hex, URL-escaped, the decoded bytes), nor in the
// export bundle. Only their hashes are stored, and both links work.
func TestF5RevokeTokenNeverInDatabaseInPlaintext(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	done := confirmSign(p, path, signForm()).Expect(http.StatusOK)
	if done.Header.Get("Cache-Control") != "no-store" {
		t.Error("the completion page, which carries the revocation link, may be cached")
	}
	pageURL, _ := url.Parse(done.Doc.Find("#revoke-link").AttrOr("href", ""))
	pageToken := strings.TrimPrefix(pageURL.Path, "/r/")
	if !consent.ValidTokenShape(pageToken) {
		t.Fatalf("the completion page offers no revocation link: %q", pageURL)
	}
	e.runJobs(t)
	m := e.smtp.Last(t)
	link := linkRE.FindString(strings.ReplaceAll(m.Text, "\n", " "))
	u, _ := url.Parse(link)
	token := strings.TrimPrefix(u.Path, "/r/")
	if !consent.ValidTokenShape(token) || token == pageToken {
		t.Fatalf("no fresh revocation link in the patient's email: %q", m.Text)
	}
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rec.AuthorizationText, "/r/") {
		t.Fatal("the record's text links to /r/")
	}
	for _, tok := range []string{token, pageToken} {
		var n int64
		e.App.DB.Model(&models.ConsentRevokeToken{}).Where("token_hash = ? AND record_id = ?", consent.HashToken(tok), rec.ID).Count(&n)
		if n != 1 {
			t.Fatalf("the hash of a revocation link is not stored for the record")
		}
		// The link works: it leads to the identity check.
		e.Client().Get("/r/" + tok).Expect(http.StatusOK).Contains("confirme que es usted")
	}

	forms := map[string]string{}
	for name, tok := range map[string]string{"email": token, "page": pageToken} {
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		full := e.App.Config.PublicURL + "/r/" + tok
		for k, v := range map[string]string{
			"token": tok, "base64(token)": base64.StdEncoding.EncodeToString([]byte(tok)),
			"base64url(token)": base64.RawURLEncoding.EncodeToString([]byte(tok)), "hex(token)": hex.EncodeToString([]byte(tok)),
			"hex(bytes)": hex.EncodeToString(raw), "base64(bytes)": base64.RawStdEncoding.EncodeToString(raw),
			"url-escaped link": url.QueryEscape(full), "url-escaped token": url.PathEscape(tok),
		} {
			forms[name+" "+k] = v
		}
	}

	type column struct{ Table, Name string }
	var cols []column
	if e.App.DB.Dialector.Name() == "postgres" {
		err := e.App.DB.Raw(`SELECT table_name AS "table", column_name AS name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`).Scan(&cols).Error
		if err != nil {
			t.Fatal(err)
		}
	} else {
		var tables []string
		if err := e.App.DB.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).Scan(&tables).Error; err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			var names []string
			if err := e.App.DB.Raw(`SELECT name FROM pragma_table_info(?)`, table).Scan(&names).Error; err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				cols = append(cols, column{table, n})
			}
		}
	}
	checked := 0
	for _, col := range cols {
		for form, v := range forms {
			var n int64
			q := `SELECT COUNT(*) FROM "` + col.Table + `" WHERE CAST("` + col.Name + `" AS TEXT) LIKE ?`
			if err := e.App.DB.Raw(q, "%"+v+"%").Scan(&n).Error; err != nil {
				t.Fatalf("%s.%s: %v", col.Table, col.Name, err)
			}
			if n > 0 {
				t.Errorf("the revocation link (%s) is stored in %s.%s", form, col.Table, col.Name)
			}
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("only %d columns checked", checked)
	}

	// The export bundle (with its staff evidence copy of the certificate).
	e.MarkApproved(t, e.story)
	pub, _ := e.SignedIn(models.RolePublisher)
	res := pub.Get("/stories/" + e.story + "/export.zip").Expect(http.StatusOK)
	zr, err := zip.NewReader(strings.NewReader(res.Body), int64(len(res.Body)))
	if err != nil {
		t.Fatal(err)
	}
	sawCert := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		text := string(b)
		if strings.HasSuffix(f.Name, ".pdf") {
			sawCert = true
			text += pdfText(t, b)
		}
		for form, v := range forms {
			if strings.Contains(text, v) {
				t.Errorf("the export bundle's %s carries the revocation link (%s)", f.Name, form)
			}
		}
		if strings.Contains(text, "/r/") {
			t.Errorf("the export bundle's %s carries a revocation link", f.Name)
		}
	}
	if !sawCert {
		t.Error("the export bundle has no certificate to check")
	}
}

// TestDoubleSubmittedSignatureSaysAlreadySigned (issue 21): two submissions
// of the same signature racing each other record one consent, and the
// losing one is answered "already signed" (in the patient's language on the
// page), never the story transition's staff error.
func TestDoubleSubmittedSignatureSaysAlreadySigned(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	token := strings.TrimPrefix(path, "/c/")
	ctx := context.Background()
	r1, err := e.App.Consent.Find(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	r2 := *r1 // the second submission loaded the request before the first committed
	in := consent.SignInput{Channels: []string{"website", "x"}, NameUsage: "first_name", ExpiresOn: time.Now().AddDate(1, 0, 0).Format("2006-01-02"),
		EsignAgreed: true, TypedName: "María López", TypedSignature: "María López", EsignLanguage: "es"}
	fin, err := e.App.Consent.Final(ctx, r1, in)
	if err != nil {
		t.Fatal(err)
	}
	in.AuthSHA256 = fin.SHA256
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*models.ConsentRequest{r1, &r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.App.Consent.Sign(ctx, r, in)
		}()
	}
	wg.Wait()
	ok, already := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, consent.ErrAlreadySigned):
			already++
		default:
			t.Errorf("second signature: %v", err)
		}
	}
	if ok != 1 || already != 1 {
		t.Fatalf("%d signed, %d already signed: %v", ok, already, errs)
	}
	// The page answer, in the patient's language, for a later resubmission.
	confirmSign(p, path, signForm()).Expect(http.StatusOK).Contains("Ya está firmado")
}

// TestRevokeIdentityCheckLocks: a revocation link alone cannot revoke;
// wrong dates of birth lock revoking by link after consent.MaxFailures tries
// (the patient is told to call the team), and the emailed code works too.
func TestRevokeIdentityCheckLocks(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	u, _ := url.Parse(linkRE.FindString(strings.ReplaceAll(e.smtp.Last(t).Text, "\n", " ")))

	// The emailed code passes the check.
	r := e.Client()
	r.Post(u.Path+"/code", nil).Expect(http.StatusOK)
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(e.smtp.Last(t).Text)
	r.Post(u.Path+"/verify", url.Values{"method": {"code"}, "code": {"000000"}}).Expect(http.StatusUnprocessableEntity)
	r.Post(u.Path+"/verify", url.Values{"method": {"code"}, "code": {code}}).Expect(http.StatusSeeOther)
	r.Get(u.Path).Expect(http.StatusOK).Contains("Cancelar su permiso")

	// Someone else with the link guesses dates of birth: locked.
	x := e.Client()
	for i := 1; i < consent.MaxFailures; i++ {
		verifyDOB(x, u.Path, "1990", "1", strconv.Itoa(i)).Expect(http.StatusUnprocessableEntity)
	}
	verifyDOB(x, u.Path, "1990", "2", "2").Expect(http.StatusLocked)
	x.Post(u.Path, url.Values{"reason": {"x"}}).Expect(http.StatusLocked)
	var rec models.ConsentRecord
	e.App.DB.Where("story_id = ?", e.story).Take(&rec)
	if rec.Status != models.RecordValid || rec.RevokeFailures != consent.MaxFailures {
		t.Fatalf("record %s with %d failures", rec.Status, rec.RevokeFailures)
	}
}
