package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/media"
)

// cmdMedia implements `storykeep media check [--fix]`: it lists asset rows
// whose object is missing and objects with no row, and with --fix removes the
// orphan objects. It exits non-zero while anything is inconsistent.
func cmdMedia(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: storykeep media check [--fix]")
	}
	fix := false
	rest := []string{}
	for _, a := range args[1:] {
		if a == "--fix" {
			fix = true
		} else {
			rest = append(rest, a)
		}
	}
	cfg, err := loadConfig(rest, getenv)
	if err != nil {
		return err
	}
	gdb, err := app.OpenDB(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	}()
	if err := db.CheckCurrent(ctx, gdb); err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	svc := assets.New(gdb, store, audit.New(gdb), media.Options{})
	rep, err := svc.Check(ctx)
	if err != nil {
		return err
	}
	for _, a := range rep.RowsWithoutObjects {
		fmt.Fprintf(stdout, "row without object: asset %s (%s %s) key %s\n", a.ID, a.OwnerType, a.OwnerID, a.StorageKey)
	}
	for _, k := range rep.ObjectsWithoutRows {
		fmt.Fprintf(stdout, "object without row: %s\n", k)
	}
	if fix && len(rep.ObjectsWithoutRows) > 0 {
		n, err := svc.Fix(ctx, rep)
		fmt.Fprintf(stdout, "removed %d orphan object(s)\n", n)
		if err != nil {
			return err
		}
		rep.ObjectsWithoutRows = nil
	}
	bad, err := disclosure.CheckStored(ctx, gdb, store, audit.New(gdb))
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
	if len(rep.RowsWithoutObjects)+len(rep.ObjectsWithoutRows) > 0 {
		hint := ""
		if len(rep.ObjectsWithoutRows) > 0 {
			hint = "; run with --fix to remove orphan objects"
		}
		return fmt.Errorf("media store is inconsistent: %d row(s) without object, %d object(s) without row%s", len(rep.RowsWithoutObjects), len(rep.ObjectsWithoutRows), hint)
	}
	return nil
}
