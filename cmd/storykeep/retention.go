package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/app/retention"
	"github.com/storykeep/storykeep/models"
)

const retentionUsage = `usage:
  storykeep retention list                          what has passed retention (and what a legal hold keeps)
  storykeep retention purge [--yes]                 delete what has passed retention, audited (without --yes: list only)
  storykeep retention hold --patient ID|--story ID --reason R
  storykeep retention lift HOLD_ID
  storykeep retention holds                         active legal holds
  storykeep retention lock                          retain every record's evidence write-once until its date (after turning on Object Lock)
Settings flags (e.g. --retention-years) come after "--".`

// cmdRetention implements `storykeep retention …` (issue 24): nothing past
// retention is deleted until an administrator runs purge --yes; holds are
// set and lifted here. Every change is audited as the command line.
func cmdRetention(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(retentionUsage)
	}
	rest := []string{}
	for i, a := range args[1:] {
		if a == "--" {
			rest = args[i+2:]
			args = args[:i+1]
			break
		}
	}
	fs := flag.NewFlagSet("retention "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	yes := fs.Bool("yes", false, "really purge")
	patient := fs.String("patient", "", "patient id")
	story := fs.String("story", "", "story id")
	reason := fs.String("reason", "", "why the hold is set")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%v\n%s", err, retentionUsage)
	}
	cfg, err := loadConfig(rest, getenv)
	if err != nil {
		return err
	}
	gdb, closeDB, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	log := audit.New(gdb)
	defer func() { _, _ = log.Link(ctx) }() // what this command recorded, linked before it exits
	mediaSvc := assets.New(gdb, store, log, media.Options{})
	svc := retention.New(gdb, log, store, mediaSvc, cfg.RetentionYears)
	mediaSvc.Binder = svc
	ctx = audit.WithActor(ctx, audit.Actor{ID: "cli", Label: "command line"})

	printItems := func(label string, items []retention.Item) {
		for _, it := range items {
			fmt.Fprintf(stdout, "%s %s %s (story %s, kept until %s)\n", label, it.Kind, it.ID, it.StoryID, it.Until.Format(time.DateOnly))
		}
	}
	switch args[0] {
	case "list":
		rep, err := svc.Due(ctx)
		if err != nil {
			return err
		}
		printItems("due", rep.Due)
		printItems("held", rep.Held)
		fmt.Fprintf(stdout, "%d past retention (%d years) may be purged; %d kept by a legal hold\n", len(rep.Due), svc.Years(), len(rep.Held))
	case "purge":
		if !*yes {
			rep, err := svc.Due(ctx)
			if err != nil {
				return err
			}
			printItems("due", rep.Due)
			fmt.Fprintf(stdout, "%d would be deleted; run again with --yes to purge\n", len(rep.Due))
			return nil
		}
		p, err := svc.Purge(ctx)
		if p != nil {
			printItems("purged", p.Items)
			fmt.Fprintf(stdout, "%d purged; %d kept by a legal hold\n", len(p.Items), p.Held)
		}
		return err
	case "lock":
		w := svc.WriteOnce(ctx)
		if !w.Active {
			return fmt.Errorf("write-once storage is %s; nothing to do", w)
		}
		n, err := svc.LockAll(ctx, true)
		fmt.Fprintf(stdout, "evidence of %d consent record(s) retained write-once (%s)\n", n, w.Mode)
		return err
	case "hold":
		kind, id := models.HoldPatient, *patient
		if *story != "" {
			kind, id = models.HoldStory, *story
		}
		if (*patient == "") == (*story == "") {
			return errors.New("give one of --patient ID or --story ID\n" + retentionUsage)
		}
		h, err := svc.SetHold(ctx, kind, id, *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "legal hold %s set on %s %s\n", h.ID, kind, id)
	case "lift":
		if fs.NArg() != 1 {
			return errors.New(retentionUsage)
		}
		if err := svc.LiftHold(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "legal hold %s lifted\n", fs.Arg(0))
	case "holds":
		hs, err := svc.Holds(ctx)
		if err != nil {
			return err
		}
		for _, h := range hs {
			fmt.Fprintf(stdout, "%s %s %s set %s by %s: %s\n", h.ID, h.SubjectType, h.SubjectID, h.SetAt.Format(time.DateOnly), h.SetBy, h.Reason)
		}
	default:
		return errors.New(retentionUsage)
	}
	return nil
}
