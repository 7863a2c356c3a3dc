package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/demo"
	"github.com/storykeep/storykeep/models"
)

// demoEnv is the command-line environment of an apptest configuration, so
// a command and the test's server share the database, keys and media.
func demoEnv(cfg *config.Config) func(string) string {
	vals := map[string]string{"STORYKEEP_DATA_DIR": cfg.DataDir, "STORYKEEP_DATABASE_URL": cfg.DatabaseURL, "STORYKEEP_PUBLIC_URL": "http://demo.test"}
	return func(k string) string { return vals[k] }
}

var credRE = regexp.MustCompile(`(?m)^  (admin|storyteller|reviewer|publisher)\s+(\S+@` + regexp.QuoteMeta(demo.Domain) + `)\s+(\S+)\s+\(shown once\)$`)

// TestDemoFillsEveryScreen is issue 22's demo check: `storykeep demo` run
// into a fresh database, then the real app (apptest) shows every stage's
// screen populated: drafts, a story awaiting consent with a live link, a
// certificate that downloads and verifies, a review with PHI findings, an
// approved story, a public page with its photo, a withdrawn page (410),
// deliveries and click counts. It signs in with the printed credentials.
func TestDemoFillsEveryScreen(t *testing.T) {
	cfg := apptest.Config(t)
	ge := demoEnv(cfg)
	code, out, errs := runCmd(t, ge, "demo", "--stories", "30")
	if code != 0 {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "Created 30 demo stories") {
		t.Fatalf("no bulk summary in:\n%s", out)
	}
	creds := map[string][2]string{}
	for _, m := range credRE.FindAllStringSubmatch(out, -1) {
		creds[m[1]] = [2]string{m[2], m[3]}
	}
	if len(creds) != 4 || strings.Contains(out, demo.FixedPassword) {
		t.Fatalf("want four accounts with random passwords printed once:\n%s", out)
	}
	env := apptest.Start(t, cfg)
	signIn := func(role string) *apptest.Client {
		c := env.Client()
		c.Login(creds[role][0], creds[role][1]).Expect(http.StatusSeeOther)
		if loc := c.Get("/stories").Expect(http.StatusOK); loc.Doc.Find("table").Length() == 0 {
			t.Fatalf("%s cannot see the story list", role)
		}
		return c
	}
	admin, reviewer, publisher := signIn("admin"), signIn("reviewer"), signIn("publisher")

	ids := func(c *apptest.Client, stage string) []string {
		t.Helper()
		res := c.Get("/stories?stage=" + stage).Expect(http.StatusOK)
		var out []string
		res.Doc.Find(`tbody a[href^="/stories/"]`).Each(func(_ int, a *goquery.Selection) {
			out = append(out, strings.TrimPrefix(a.AttrOr("href", ""), "/stories/"))
		})
		if len(out) == 0 {
			t.Fatalf("the %s list is empty", stage)
		}
		return out
	}
	ids(admin, "drafting")
	ids(admin, "interview")
	ids(admin, "changes_requested")
	ids(admin, "consent_declined")

	// Awaiting consent: a live request; the printed link opens for the patient.
	waiting := ids(admin, "awaiting_consent")[0]
	admin.Get("/stories/" + waiting + "/consent").Expect(http.StatusOK).Contains("Maria walks again")
	link := regexp.MustCompile(`http://demo\.test(/c/[A-Za-z0-9_-]{43})`).FindStringSubmatch(out)
	if link == nil {
		t.Fatalf("no consent link printed:\n%s", out)
	}
	patient := env.Client()
	patient.Get(link[1]).Expect(http.StatusOK)
	patient.Post(link[1]+"/verify", url.Values{"method": {"dob"}, "year": {"1984"}, "month": {"7"}, "day": {"21"}}).Expect(http.StatusSeeOther)

	// Consented: the certificate downloads from the consent screen and verifies.
	consented := ids(admin, "consented")[0]
	page := admin.Get("/stories/" + consented + "/consent").Expect(http.StatusOK)
	href := page.Doc.Find(`a[href^="/consents/"][href$="/certificate"]`).AttrOr("href", "")
	if href == "" {
		t.Fatalf("no certificate link on the consent screen:\n%s", page.Text("main"))
	}
	pdf := admin.Get(href).Expect(http.StatusOK)
	if !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Fatal("the certificate is not a PDF")
	}
	file := filepath.Join(t.TempDir(), "certificate.pdf")
	if err := os.WriteFile(file, []byte(pdf.Body), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, vout, verrs := runCmd(t, ge, "consent", "verify", file); code != 0 || !strings.Contains(vout, "certificate verified") || !strings.Contains(vout, "seal: valid") {
		t.Fatalf("consent verify: %d\n%s\n%s", code, vout, verrs)
	}

	// In review, with PHI findings highlighted for the reviewer.
	inReview := ids(reviewer, "in_review")[0]
	review := reviewer.Get("/stories/" + inReview + "/review").Expect(http.StatusOK)
	if n := review.Doc.Find("mark.phi").Length(); n == 0 || review.Doc.Find(`input[name=finding]`).Length() == 0 {
		t.Fatalf("the review shows %d PHI findings and nothing to acknowledge", n)
	}

	// Approved: legal's approval is on the publishing screen.
	approved := ids(admin, "approved")[0]
	publisher.Get("/stories/" + approved + "/publish").Expect(http.StatusOK).Contains("Legal review approved")

	// Published: the public page with a photo that loads; deliveries and clicks.
	var pubs []models.WebsitePublication
	if err := env.App.DB.Where("withdrawn_at IS NULL").Find(&pubs).Error; err != nil || len(pubs) == 0 {
		t.Fatalf("no live website publication: %v", err)
	}
	public := env.Client().Get("/p/" + pubs[0].Slug).Expect(http.StatusOK)
	src := public.Doc.Find("main img").AttrOr("src", "")
	if src == "" {
		t.Fatalf("the public page has no photo:\n%s", public.Text("main"))
	}
	img := env.Client().Get(src).Expect(http.StatusOK)
	if ct := img.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") || len(img.Body) < 5000 {
		t.Fatalf("the photo is %q, %d bytes", ct, len(img.Body))
	}
	sawDelivery, sawClicks := false, false
	for _, id := range ids(publisher, "published") {
		panel := publisher.Get("/stories/" + id + "/publish").Expect(http.StatusOK)
		if panel.Doc.Find(`#deliveries tbody tr[class^="delivery-"]`).Length() > 0 && strings.Contains(panel.Text("#deliveries"), "sent") {
			sawDelivery = true
		}
		panel.Doc.Find("#clicks tbody tr td:nth-child(2)").Each(func(_ int, td *goquery.Selection) {
			if n, _ := strconv.Atoi(strings.TrimSpace(td.Text())); n > 0 {
				sawClicks = true
			}
		})
	}
	if !sawDelivery || !sawClicks {
		t.Fatalf("published stories show deliveries %v, clicks %v", sawDelivery, sawClicks)
	}
	dash := publisher.Get("/publishing").Expect(http.StatusOK)
	if total := regexp.MustCompile(`Last 30 days: (\d+) clicks`).FindStringSubmatch(dash.Text("main")); total == nil || total[1] == "0" {
		t.Fatalf("the publishing dashboard shows no clicks: %q", dash.Text("main"))
	}

	// Withdrawn after the patient revoked: the page answers 410.
	withdrawn := ids(admin, "withdrawn")[0]
	var gone models.WebsitePublication
	if err := env.App.DB.Where("story_id = ?", withdrawn).Take(&gone).Error; err != nil {
		t.Fatal(err)
	}
	env.Client().Get("/p/" + gone.Slug).Expect(http.StatusGone)
	var revoked int64
	env.App.DB.Model(&models.ConsentRecord{}).Where("story_id = ? AND status = ?", withdrawn, models.RecordRevoked).Count(&revoked)
	if revoked != 1 {
		t.Fatal("the withdrawn story's consent is not revoked")
	}

	// Everything went through the services: the audit chain holds.
	if code, aout, _ := runCmd(t, ge, "audit", "verify"); code != 0 {
		t.Fatalf("audit verify after the demo: %s", aout)
	}
}

// TestDemoRefusesRealData: the demo runs only on a database it alone
// filled (a second run is fine), refuses one with other staff accounts
// unless --force, and --demo gives the documented password.
func TestDemoRefusesRealData(t *testing.T) {
	cfg := apptest.Config(t)
	ge := demoEnv(cfg)
	if code, out, errs := runCmd(t, ge, "demo", "--stories", "0", "--no-showcase", "--demo"); code != 0 || !strings.Contains(out, demo.FixedPassword) {
		t.Fatalf("demo --demo: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCmd(t, ge, "demo", "--stories", "4", "--no-showcase"); code != 0 || !strings.Contains(out, "password unchanged") {
		t.Fatalf("a second demo run: %d %s %s", code, out, errs)
	}
	env := apptest.Start(t, cfg)
	env.Client().Login("reviewer@"+demo.Domain, demo.FixedPassword).Expect(http.StatusSeeOther)
	env.CreateUser(models.RoleAdmin) // someone's real account
	code, _, errs := runCmd(t, ge, "demo", "--stories", "4", "--no-showcase")
	if code == 0 || !strings.Contains(errs, "already holds") || !strings.Contains(errs, "--force") {
		t.Fatalf("demo over real data: %d %q", code, errs)
	}
	if code, out, errs := runCmd(t, ge, "demo", "--stories", "4", "--no-showcase", "--force"); code != 0 {
		t.Fatalf("demo --force: %s %s", out, errs)
	}
}
