package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/media"
)

// cmdMedia implements `storykeep media check [--fix]`: it lists asset rows
// whose object is missing and objects with no row, and with --fix removes the
// orphan objects. It exits non-zero while anything is inconsistent.
func cmdMedia(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: storykeep media check [--fix] [--older-than=24h]")
	}
	fix := false
	age := assets.DefaultLeftoverAge
	rest := []string{}
	for _, a := range args[1:] {
		if a == "--fix" {
			fix = true
		} else if v, ok := strings.CutPrefix(a, "--older-than="); ok {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("--older-than: %q is not a duration like 1h or 30m", v)
			}
			age = d
		} else {
			rest = append(rest, a)
		}
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
	svc := assets.New(gdb, store, audit.New(gdb), media.Options{})
	rep, err := svc.CheckAll(ctx, age)
	if err != nil {
		return err
	}
	for _, a := range rep.RowsWithoutObjects {
		fmt.Fprintf(stdout, "row without object: asset %s (%s %s) key %s\n", a.ID, a.OwnerType, a.OwnerID, a.StorageKey)
	}
	for _, k := range rep.ObjectsWithoutRows {
		fmt.Fprintf(stdout, "object without row: %s\n", k)
	}
	for _, k := range rep.StagedWithoutUpload {
		fmt.Fprintf(stdout, "staged chunk without upload: %s\n", k)
	}
	for _, l := range rep.Leftovers {
		fmt.Fprintf(stdout, "%s: %s (%d bytes, started %s)\n", l.Kind, l.Key, l.Size, l.Started.UTC().Format(time.RFC3339))
	}
	removable := len(rep.ObjectsWithoutRows) + len(rep.StagedWithoutUpload) + len(rep.Leftovers)
	if fix && removable > 0 {
		n, err := svc.Fix(ctx, rep)
		fmt.Fprintf(stdout, "removed %d orphan object(s), staged chunk(s) and leftover(s) of interrupted uploads\n", n)
		if err != nil {
			return err
		}
		rep.ObjectsWithoutRows, rep.StagedWithoutUpload, rep.Leftovers, removable = nil, nil, nil, 0
	}
	log := audit.New(gdb)
	defer func() { _, _ = log.Link(ctx) }() // what this command recorded, linked before it exits
	bad, err := disclosure.CheckStored(ctx, gdb, store, log)
	if err != nil {
		return err
	}
	for _, m := range bad {
		what := "asset " + m.AssetID
		if m.Rendition != "" {
			what += " rendition " + m.Rendition
		}
		fmt.Fprintf(stdout, "checksum mismatch: %s key %s (audited as media.tampered; it will not be published)\n", what, m.Key)
	}
	fmt.Fprintf(stdout, "checked %d asset(s)\n", rep.Checked)
	if len(bad) > 0 {
		return fmt.Errorf("media store has %d object(s) whose bytes do not match their recorded SHA-256", len(bad))
	}
	if len(rep.RowsWithoutObjects)+removable > 0 {
		hint := ""
		if removable > 0 {
			hint = "; run with --fix to remove orphan objects and leftovers"
		}
		return fmt.Errorf("media store is inconsistent: %d row(s) without object, %d object(s) without row, %d staged chunk(s) without upload, %d leftover(s) of interrupted uploads older than %s%s",
			len(rep.RowsWithoutObjects), len(rep.ObjectsWithoutRows), len(rep.StagedWithoutUpload), len(rep.Leftovers), age, hint)
	}
	return nil
}
