// Package demo fills a fresh Storykeep with demo data that shows the whole
// product (`storykeep demo`): staff accounts for every role, a showcase of
// stories at every stage of the lifecycle made through the services' own
// rules (consent signed through the consent service, approval through the
// workflow, deliveries through the export queue), and, for volume, many
// more stories written in bulk through the stories service.
package demo

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/organisation"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// Domain is the email domain of every demo staff account (.test is
// reserved: no mail to it is ever delivered). An account there is demo
// data; any other account is not.
const Domain = "demo.storykeep.test"

// FixedPassword is the documented password of every demo account when the
// demo is run with --demo (Options.Fixed): for a throw-away demo instance
// only, never for a deployment.
const FixedPassword = "storykeep demo only"

// Options says what to make.
type Options struct {
	// Stories is how many bulk stories to add (about four per patient).
	Stories int
	// NoShowcase skips the staged showcase stories (load tests).
	NoShowcase bool
	// Fixed gives every new demo account FixedPassword instead of a random one.
	Fixed bool
	// Force runs on a database that already holds data the demo did not make.
	Force bool
}

// Account is a demo staff account and, when just created, its password.
type Account struct {
	Role, Email, Name, Password string
	Existed                     bool
	User                        *models.User
}

// Result is what the demo made, for the summary and for tests.
type Result struct {
	Accounts []Account
	Bulk     int
	BulkTime time.Duration
	Showcase *Showcase
}

// Run fills a with demo data and writes a summary to out.
func Run(ctx context.Context, a *app.App, o Options, out io.Writer) (*Result, error) {
	ctx = audit.WithActor(ctx, audit.System)
	if !o.Force {
		if err := CheckOnlyDemo(ctx, a); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	var err error
	if res.Accounts, err = ensureAccounts(ctx, a, o.Fixed); err != nil {
		return nil, err
	}
	staff := byRole(res.Accounts)
	if err := demoOrganisation(ctx, a); err != nil {
		return nil, err
	}
	if !o.NoShowcase {
		if res.Showcase, err = makeShowcase(ctx, a, staff); err != nil {
			return nil, fmt.Errorf("demo showcase: %w", err)
		}
	}
	if o.Stories > 0 {
		start := time.Now()
		if err := bulk(ctx, a, staff["storyteller"].User, o.Stories); err != nil {
			return nil, err
		}
		res.Bulk, res.BulkTime = o.Stories, time.Since(start)
	}
	// The full-text index as the nightly job leaves it (one segment), and
	// fresh statistics after a bulk load, so the planner picks index walks
	// instead of guessing.
	if _, err := a.Stories.OptimizeSearch(ctx); err != nil {
		return nil, fmt.Errorf("optimizing the search index after the demo load: %w", err)
	}
	if err := db.Analyze(ctx, a.DB); err != nil {
		return nil, fmt.Errorf("analyzing after the demo load: %w", err)
	}
	res.print(out, a.Config.PublicURL, o.Fixed)
	return res, nil
}

// CheckOnlyDemo refuses a database holding data the demo did not make:
// staff accounts outside Domain, or patients and stories made by them. A
// fresh database, or one only the demo filled, passes.
func CheckOnlyDemo(ctx context.Context, a *app.App) error {
	var others []string
	if err := a.DB.WithContext(ctx).Model(&models.User{}).Where("email NOT LIKE ?", "%@"+Domain).Order("email").Limit(3).Pluck("email", &others).Error; err != nil {
		return err
	}
	var nStories, nPatients int64
	demoUsers := a.DB.Model(&models.User{}).Select("id").Where("email LIKE ?", "%@"+Domain)
	if err := a.DB.WithContext(ctx).Model(&models.Story{}).Where("owner_id NOT IN (?)", demoUsers).Count(&nStories).Error; err != nil {
		return err
	}
	if err := a.DB.WithContext(ctx).Model(&models.Patient{}).Where("created_by NOT IN (?)", demoUsers).Count(&nPatients).Error; err != nil {
		return err
	}
	if len(others) == 0 && nStories == 0 && nPatients == 0 {
		return nil
	}
	var what []string
	if len(others) > 0 {
		what = append(what, "staff accounts the demo did not make ("+strings.Join(others, ", ")+")")
	}
	if nStories > 0 {
		what = append(what, strconv.FormatInt(nStories, 10)+" stories")
	}
	if nPatients > 0 {
		what = append(what, strconv.FormatInt(nPatients, 10)+" patients")
	}
	return apperr.New(409, "this database already holds "+strings.Join(what, " and ")+
		": the demo adds staff accounts with printed passwords and made-up patients, so it runs only on a fresh database "+
		"(point STORYKEEP_DATA_DIR or STORYKEEP_DATABASE_URL at an empty one), or with --force if you really mean to add them here")
}

var roles = []struct{ role, name string }{
	{models.RoleAdmin, "Ada Admin"},
	{models.RoleStoryteller, "Sam Storyteller"},
	{models.RoleReviewer, "Rita Reviewer"},
	{models.RolePublisher, "Paul Publisher"},
}

// ensureAccounts makes one account per role (reusing those of an earlier
// run, whose passwords are left alone).
func ensureAccounts(ctx context.Context, a *app.App, fixed bool) ([]Account, error) {
	var out []Account
	for _, r := range roles {
		acc := Account{Role: r.role, Email: r.role + "@" + Domain, Name: r.name}
		u, err := a.Users.GetByEmail(ctx, acc.Email)
		if err == nil {
			acc.User, acc.Existed = u, true
			out = append(out, acc)
			continue
		}
		acc.Password = auth.RandomPassword()
		if fixed {
			acc.Password = FixedPassword
		}
		if acc.User, err = a.Users.Create(ctx, users.NewUser{Email: acc.Email, Name: acc.Name, Role: r.role, Password: acc.Password}); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", acc.Email, err)
		}
		out = append(out, acc)
	}
	return out, nil
}

func byRole(accs []Account) map[string]Account {
	m := map[string]Account{}
	for _, a := range accs {
		m[a.Role] = a
	}
	return m
}

// bulk adds n stories about n/4 patients through the services' batch
// paths: every row the single-story path writes (revision, event, tags,
// channels, member bits, search index, audit entries), in batches.
func bulk(ctx context.Context, a *app.App, teller *models.User, n int) error {
	// About four stories per patient, as a hospital's story programme
	// would have (most patients have one or a few): so a patient filter
	// finds a handful of stories, and the patient chooser searches among
	// many thousands of names.
	np := max(8, n/4)
	ids, names := make([]string, np), make([]string, np)
	const pbatch = 1000
	for i := 0; i < np; i += pbatch {
		var ins []patients.Input
		for j := i; j < min(np, i+pbatch); j++ {
			names[j] = stories.DemoPatientName(j)
			ins = append(ins, patients.Input{FullName: names[j], Language: "en"})
		}
		ps, err := a.Patients.CreateMany(ctx, teller.ID, ins)
		if err != nil {
			return fmt.Errorf("demo patients: %w", err)
		}
		for j, p := range ps {
			ids[i+j] = p.ID
		}
	}
	run := strconv.FormatInt(time.Now().UnixNano()/1e6, 36)
	actor := stories.Actor{UserID: teller.ID, Role: teller.Role}
	const batch = 500
	for i := 0; i < n; i += batch {
		var ins []stories.Input
		for j := i; j < min(n, i+batch); j++ {
			k := stories.DemoPatient(j, np)
			ins = append(ins, stories.DemoInput(run, j, teller.ID, ids[k], names[k]))
		}
		if err := a.Stories.CreateMany(ctx, actor, ins); err != nil {
			return err
		}
	}
	return nil
}

func (r *Result) print(w io.Writer, base string, fixed bool) {
	fmt.Fprintf(w, "\nStorykeep demo data is ready. Start the server (storykeep serve) and sign in at %s/login\n\n", base)
	fmt.Fprintln(w, "Staff accounts (one per role):")
	for _, a := range r.Accounts {
		pw := a.Password
		switch {
		case a.Existed:
			pw = "(made by an earlier demo run; password unchanged)"
		case !fixed:
			pw += "   (shown once)"
		}
		fmt.Fprintf(w, "  %-12s %-32s %s\n", a.Role, a.Email, pw)
	}
	if fixed {
		fmt.Fprintf(w, "  (--demo: every new account has the documented password %q; use this only for a throw-away demo)\n", FixedPassword)
	}
	if s := r.Showcase; s != nil {
		s.print(w, base)
	}
	if r.Bulk > 0 {
		fmt.Fprintf(w, "\nCreated %d demo stories about %d patients in %s (owner %s).\n", r.Bulk, max(8, r.Bulk/4), r.BulkTime.Round(time.Millisecond), byRole(r.Accounts)["storyteller"].Email)
	}
}

// demoOrganisation fills the organisation's contact details, which consent
// forms print and without which no request can be sent, when none are set:
// a demo hospital's, marked as such. Details an admin set are kept.
func demoOrganisation(ctx context.Context, a *app.App) error {
	p, err := a.Consent.Organisation.Get(ctx)
	if err != nil {
		return err
	}
	if len(p.Missing()) == 0 {
		return nil
	}
	return a.Consent.Organisation.Save(ctx, "", organisation.Profile{LegalName: "Demo General Hospital (demo data)", PostalAddress: "1 Example Street\nSpringfield, IL 62701",
		Phone: "+1 555 010 0199", PrivacyEmail: "privacy@" + Domain, TimeZone: "America/Chicago"})
}
