package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/demo"
)

// cmdDemo fills a fresh database with demo data through the real services:
// `storykeep demo [--stories N] [--demo] [--force] [--no-showcase] [config flags]`.
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, rest := demo.Options{Stories: 200}, []string{}
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
	_, err = demo.Run(ctx, a, o, stdout)
	return err
}
