package web_test

import (
	"context"
	"errors"
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

// TestF5RevokeTokenNeverInDatabaseInPlaintext: after a whole signing flow
// (invitation, identity check, final confirmation, signature, certificate
// job and its email), the revocation token from the patient's email is
// found in no column of any table, and the authorization text carries no
// /r/ link. Only its hash is looked up.
func TestF5RevokeTokenNeverInDatabaseInPlaintext(t *testing.T) {
	e := newConsentEnv(t)
	path := e.send(t)
	p := e.Client()
	verifyDOB(p, path, "1984", "7", "21").Expect(http.StatusSeeOther)
	confirmSign(p, path, signForm()).Expect(http.StatusOK)
	e.runJobs(t)
	m := e.smtp.Last(t)
	link := linkRE.FindString(strings.ReplaceAll(m.Text, "\n", " "))
	u, _ := url.Parse(link)
	token := strings.TrimPrefix(u.Path, "/r/")
	if !consent.ValidTokenShape(token) {
		t.Fatalf("no revocation link in the patient's email: %q", m.Text)
	}
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if rec.RevokeTokenHash != consent.HashToken(token) || strings.Contains(rec.AuthorizationText, "/r/") {
		t.Fatal("the record does not keep the token as a hash only, or its text links to /r/")
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
		var n int64
		q := `SELECT COUNT(*) FROM "` + col.Table + `" WHERE CAST("` + col.Name + `" AS TEXT) LIKE ?`
		if err := e.App.DB.Raw(q, "%"+token+"%").Scan(&n).Error; err != nil {
			t.Fatalf("%s.%s: %v", col.Table, col.Name, err)
		}
		checked++
		if n > 0 {
			t.Errorf("the revocation token is stored in plaintext in %s.%s", col.Table, col.Name)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d columns checked", checked)
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
