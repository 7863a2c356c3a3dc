package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/consent"
)

// cmdConsent runs "storykeep consent verify FILE.pdf|SHA256": the same
// check as /verify, from the command line.
func cmdConsent(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 || args[0] != "verify" {
		return errors.New("usage: storykeep consent verify FILE.pdf|SHA256 [flags]")
	}
	target := args[1]
	cfg, err := loadConfig(args[2:], getenv)
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
	svc := consent.New(consent.Deps{DB: gdb, Store: store, Settings: consent.Settings{PublicURL: cfg.PublicURL, OrganisationName: cfg.OrganisationName}})
	keyDir := cfg.SealKeyDir
	if keyDir == "" {
		keyDir = filepath.Join(cfg.DataDir, "keys")
	}
	if _, err := os.Stat(filepath.Join(keyDir, "seal.crt")); err != nil {
		// Checking must not create a new key: it would never match.
		return fmt.Errorf("no seal certificate in %s (set --data-dir or --seal-key-dir): %w", keyDir, err)
	}
	if svc.Sealer, err = app.NewSealer(cfg); err != nil {
		return err
	}
	var c *consent.CertificateCheck
	if b, rerr := os.ReadFile(target); rerr == nil {
		c, err = svc.CheckCertificate(ctx, b)
	} else if len(strings.TrimSpace(target)) == 64 {
		c, err = svc.CheckCertificateSHA256(ctx, target)
	} else {
		return rerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "certificate SHA-256 %s\n", c.SHA256)
	if c.Sealed {
		fmt.Fprintf(stdout, "seal: valid, by %s\n", c.SealedBy)
	}
	if c.Timestamped {
		fmt.Fprintf(stdout, "timestamp: %s UTC (%s)\n", c.StampedAt.UTC().Format("2006-01-02 15:04:05"), c.TSA)
	}
	if s := c.Scope; s != nil {
		fmt.Fprintf(stdout, "record %s, story %s\ncontent digest %s\nconsented: channels %s; media %s; name usage %s; until %s\n",
			s.RecordID, s.StoryID, s.ContentDigest, strings.Join(s.Channels, ", "), strings.Join(s.MediaIDs, ", "), s.NameUsage, s.ExpiresOn)
	}
	if c.Record != nil {
		fmt.Fprintf(stdout, "current status: %s\n", consent.RecordStatusText(c.Record.Status))
	}
	if !c.OK {
		for _, p := range c.Problems {
			fmt.Fprintln(stdout, "FAILED:", p)
		}
		return errors.New("certificate NOT verified")
	}
	fmt.Fprintln(stdout, "certificate verified")
	return nil
}
