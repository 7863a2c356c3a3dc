package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// cmdDemo fills the database with realistic demo stories through the real
// services: `storykeep demo --stories N [--published M] [config flags]`.
// --published also takes M more stories through consent, review and
// publication, and prints their public addresses and one consent link.
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	n, published, rest := 200, 0, []string{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--stories" && i+1 < len(args):
			v, err := strconv.Atoi(args[i+1])
			if err != nil || v < 1 {
				return fmt.Errorf("--stories wants a positive number, got %q", args[i+1])
			}
			n, i = v, i+1
		case a == "--published" && i+1 < len(args):
			v, err := strconv.Atoi(args[i+1])
			if err != nil || v < 0 {
				return fmt.Errorf("--published wants a number, got %q", args[i+1])
			}
			published, i = v, i+1
		default:
			rest = append(rest, a)
		}
	}
	cfg, err := loadConfig(rest, getenv)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = audit.WithActor(ctx, audit.System)
	teller, err := a.Users.GetByEmail(ctx, "demo-storyteller@hospital.test")
	if err != nil {
		teller, err = a.Users.Create(ctx, users.NewUser{Email: "demo-storyteller@hospital.test", Name: "Demo Storyteller", Role: models.RoleStoryteller, Password: auth.RandomPassword(), MustChangePassword: true})
		if err != nil {
			return err
		}
	}
	// About four stories per patient, as a hospital's story programme
	// would have (most patients have one or a few): so a patient filter
	// finds a handful of stories, and the patient chooser searches among
	// many thousands of names.
	start := time.Now()
	pids, names := make([]string, max(8, n/4)), make([]string, max(8, n/4))
	for i := range pids {
		names[i] = stories.DemoPatientName(i)
		p, err := a.Patients.Create(ctx, teller.ID, patients.Input{FullName: names[i], Language: "en"})
		if err != nil {
			return fmt.Errorf("demo patient: %w", err)
		}
		pids[i] = p.ID
	}
	run := strconv.FormatInt(time.Now().Unix(), 36)
	actor := stories.Actor{UserID: teller.ID, Role: teller.Role}
	const batch = 200
	for i := 0; i < n; i += batch {
		var ins []stories.Input
		for j := i; j < min(n, i+batch); j++ {
			k := stories.DemoPatient(j, len(pids))
			ins = append(ins, stories.DemoInput(run, j, teller.ID, pids[k], names[k]))
		}
		if err := a.Stories.CreateMany(ctx, actor, ins); err != nil {
			return err
		}
	}
	// The full-text index as the nightly job leaves it (one segment), and
	// fresh statistics after a bulk load, so the planner picks index walks
	// instead of guessing.
	if _, err := a.Stories.OptimizeSearch(ctx); err != nil {
		return fmt.Errorf("optimizing the search index after the demo load: %w", err)
	}
	if err := db.Analyze(ctx, a.DB); err != nil {
		return fmt.Errorf("analyzing after the demo load: %w", err)
	}
	fmt.Fprintf(stdout, "Created %d demo stories about %d patients in %s (owner %s).\n", n, len(names), time.Since(start).Round(time.Millisecond), teller.Email)
	if published > 0 {
		return demoPublish(ctx, a, teller, run, published, stdout)
	}
	return nil
}
