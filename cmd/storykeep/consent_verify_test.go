package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/pdfseal/tsatest"
	"github.com/storykeep/storykeep/models"
)

// TestConsentVerifyCommand signs a consent in a running Storykeep, then
// checks its certificate with "storykeep consent verify" (by file and by
// SHA-256): it passes, and fails after a changed byte of the PDF or a
// changed signed value in the database.
func TestConsentVerifyCommand(t *testing.T) {
	tsa := tsatest.Start(t)
	vals := map[string]string{}
	e := apptest.New(t, func(c *config.Config) {
		c.TSAURL, c.OrganisationName = tsa, "Mercy General"
		vals["STORYKEEP_DATA_DIR"], vals["STORYKEEP_DATABASE_URL"], vals["STORYKEEP_TSA_URL"] = c.DataDir, c.DatabaseURL, tsa
	})
	getenv := func(k string) string { return vals[k] }
	staff, u := e.SignedIn(models.RoleStoryteller)
	ctx := audit.WithActor(context.Background(), audit.System)
	p, err := e.App.Patients.Create(ctx, u.ID, patients.Input{FullName: "Rosa Díaz", PreferredName: "Rosa", DOB: "1950-02-03", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	res := staff.Post("/stories", url.Values{"title": {"Rosa walks 🌷"}, "summary": {"Summary."}, "body": {"Rosa walked again. شكرا"},
		"tags": {"surgery"}, "channels": {"website"}, "patient": {p.ID}, "owner": {u.ID}}).Expect(http.StatusSeeOther)
	story := strings.TrimPrefix(res.Location(), "/stories/")
	res = staff.Post("/stories/"+story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website"},
		"name_usage": {"first_name"}, "language": {"en"}, "link_days": {"14"}}).Expect(http.StatusOK)
	link, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	pc := e.Client()
	pc.Post(link.Path+"/verify", url.Values{"method": {"dob"}, "year": {"1950"}, "month": {"2"}, "day": {"3"}}).Expect(http.StatusSeeOther)
	choices := url.Values{"channels": {"website"}, "name_usage": {"first_name"}, "expires_on": {time.Now().AddDate(1, 0, 0).Format("2006-01-02")},
		"esign": {"yes"}, "typed_name": {"Rosa Díaz"}, "typed_signature": {"Rosa Díaz"}}
	// The patient confirms the final authorization; its hash goes with the signature.
	conf := pc.Post(link.Path+"/confirm", choices).Expect(http.StatusOK)
	choices.Set("auth_sha256", conf.Doc.Find("#sign-form input[name=auth_sha256]").AttrOr("value", ""))
	pc.Post(link.Path+"/sign", choices).Expect(http.StatusOK)
	for {
		ran, err := e.App.Jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			break
		}
	}
	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	pdf, err := e.App.Consent.Certificate(context.Background(), &rec)
	if err != nil || len(pdf) == 0 {
		t.Fatalf("no certificate: %v", err)
	}
	file := filepath.Join(t.TempDir(), "cert.pdf")
	write := func(b []byte) {
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(pdf)
	code, out, errs := runCmd(t, getenv, "consent", "verify", file)
	if code != 0 || !strings.Contains(out, "certificate verified") || !strings.Contains(out, "seal: valid") ||
		!strings.Contains(out, "timestamp: ") || !strings.Contains(out, "current status: valid") || !strings.Contains(out, "channels website") {
		t.Fatalf("verify: %d\n%s\n%s", code, out, errs)
	}
	sum := sha256.Sum256(pdf)
	if code, out, errs := runCmd(t, getenv, "consent", "verify", hex.EncodeToString(sum[:])); code != 0 || !strings.Contains(out, "certificate verified") {
		t.Fatalf("verify by SHA-256: %d\n%s\n%s", code, out, errs)
	}
	for _, at := range []int{9, len(pdf) / 2, len(pdf) - 10} {
		bad := append([]byte{}, pdf...)
		bad[at] ^= 0x02
		write(bad)
		if code, out, _ := runCmd(t, getenv, "consent", "verify", file); code != 1 || !strings.Contains(out, "FAILED") {
			t.Errorf("byte %d changed: exit %d\n%s", at, code, out)
		}
	}
	write(pdf)
	empty := t.TempDir()
	other := func(k string) string {
		if k == "STORYKEEP_DATA_DIR" {
			return empty
		}
		return vals[k]
	}
	if code, _, errs := runCmd(t, other, "consent", "verify", file); code != 1 || !strings.Contains(errs, "no seal certificate") {
		t.Errorf("without the seal key: exit %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(empty, "keys", "seal.key")); err == nil {
		t.Error("checking created a seal key")
	}
	if err := e.App.DB.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Update("expires_on", rec.ExpiresOn.AddDate(5, 0, 0)).Error; err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCmd(t, getenv, "consent", "verify", file); code != 1 || !strings.Contains(out, "signed scope on record differs") {
		t.Errorf("signed value changed in the database: exit %d\n%s", code, out)
	}
}
