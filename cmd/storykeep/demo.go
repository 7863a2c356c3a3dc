package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/demo"
	"github.com/storykeep/storykeep/models"
)

// cmdDemo fills a fresh database with demo data through the real services:
// `storykeep demo [--stories N] [--demo] [--force] [--no-showcase] [--published M] [config flags]`.
// --published also takes M more stories through consent, review and
// publication, and prints their public addresses and one consent link.
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, published, rest := demo.Options{Stories: 200}, 0, []string{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--stories" && i+1 < len(args):
			v, err := strconv.Atoi(args[i+1])
			if err != nil || v < 0 {
				return fmt.Errorf("--stories wants a number of stories (0 or more), got %q", args[i+1])
			}
			o.Stories, i = v, i+1
		case a == "--demo":
			o.Fixed = true
		case a == "--force":
			o.Force = true
		case a == "--no-showcase":
			o.NoShowcase = true
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
	if _, err = demo.Run(ctx, a, o, stdout); err != nil || published == 0 {
		return err
	}
	ctx = audit.WithActor(ctx, audit.System)
	teller, err := a.Users.GetByEmail(ctx, models.RoleStoryteller+"@"+demo.Domain)
	if err != nil {
		return err
	}
	return demoPublish(ctx, a, teller, strconv.FormatInt(time.Now().Unix(), 36), published, stdout)
}
