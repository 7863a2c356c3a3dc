package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
)

const auditUsage = `usage:
  storykeep audit verify [--max-unlinked-age=D]    prove the chain, compare it with every anchor; D: fail if an entry waits longer to be linked
  storykeep audit link                             link entries waiting to be linked, now
  storykeep audit anchor                           link, then write the chain head outside the database, now
  storykeep audit export --since T [--out FILE]    signed JSON Lines of the entries recorded since T (RFC 3339 or 2006-01-02)
  storykeep audit verify-export FILE               check an export's signature, hashes and links`

// cmdAudit runs the audit chain's commands (docs/audit.md).
func cmdAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	sub, rest := args[0], args[1:]
	maxAge := time.Duration(0) // report the unlinked tail; fail on it only when asked
	var since time.Time
	out := ""
	var file string
	var flags []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		val := func(name string) (string, bool, error) {
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v, true, nil
			}
			if a == name {
				if i+1 >= len(rest) {
					return "", true, fmt.Errorf("%s needs a value", name)
				}
				i++
				return rest[i], true, nil
			}
			return "", false, nil
		}
		if v, ok, err := val("--max-unlinked-age"); ok {
			if err != nil {
				return err
			}
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("--max-unlinked-age: %q is not a duration like 1m", v)
			}
			maxAge = d
		} else if v, ok, err := val("--since"); ok {
			if err != nil {
				return err
			}
			if since, err = parseSince(v); err != nil {
				return err
			}
		} else if v, ok, err := val("--out"); ok {
			if err != nil {
				return err
			}
			out = v
		} else if sub == "verify-export" && file == "" && !strings.HasPrefix(a, "-") {
			file = a
		} else {
			flags = append(flags, a)
		}
	}
	cfg, err := loadConfig(flags, getenv)
	if err != nil {
		return err
	}
	if sub == "verify-export" {
		if file == "" {
			return errors.New(auditUsage)
		}
		cert, err := sealCert(cfg)
		if err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := audit.VerifyExport(f, cert)
		if err != nil {
			return fmt.Errorf("export %s does NOT verify: %w", file, err)
		}
		fmt.Fprintf(stdout, "export OK: %d entries, signed by the seal key, every hash and link holds\n", n)
		return nil
	}
	gdb, closeDB, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	log := audit.New(gdb)
	switch sub {
	case "verify":
		return auditVerify(ctx, cfg, log, maxAge, stdout)
	case "link":
		n, err := log.Link(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "linked %d entries\n", n)
		return nil
	case "anchor":
		an, err := app.NewAnchorer(cfg, log)
		if err != nil {
			return err
		}
		a, wrote, err := an.Anchor(ctx, true)
		if wrote {
			fmt.Fprintf(stdout, "anchored entry %d, hash %s, at %s: %s\n", a.Seq, a.Hash, a.At.Format(time.RFC3339), a.Location)
			if a.TSATime != nil {
				fmt.Fprintf(stdout, "timestamped by %s at %s\n", cfg.TSAURL, a.TSATime.UTC().Format(time.RFC3339))
			}
		} else if err == nil {
			fmt.Fprintln(stdout, "nothing to anchor: the chain is empty, or another replica is anchoring")
		}
		return err
	case "export":
		if since.IsZero() {
			return errors.New("audit export: --since is required (RFC 3339 time or a date like 2026-01-31)")
		}
		sealer, err := app.NewSealer(cfg)
		if err != nil {
			return err
		}
		w := stdout
		if out != "" {
			f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		n, err := log.Export(ctx, w, since, sealer.Key, sealer.Cert)
		if err != nil {
			return err
		}
		if out != "" {
			if err := w.(*os.File).Sync(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "exported %d entries to %s\n", n, out)
		}
		return nil
	}
	return errors.New(auditUsage)
}

func parseSince(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since: %q is not an RFC 3339 time or a date like 2026-01-31", v)
}

// auditVerify proves the linked chain, compares it with every anchor
// written outside the database, and reports the unlinked tail. Any finding
// makes the command fail.
func auditVerify(ctx context.Context, cfg *config.Config, log *audit.Log, maxAge time.Duration, stdout io.Writer) error {
	stores, err := app.AnchorStores(cfg)
	if err != nil {
		return err
	}
	anchors, anchorProbs, err := audit.ReadAnchors(ctx, stores)
	if err != nil {
		return err
	}
	cert, certErr := sealCert(cfg)
	rep, err := log.VerifyWith(ctx, audit.VerifyOptions{Anchors: anchors, AnchorProblems: anchorProbs, Cert: cert, MaxUnlinkedAge: maxAge})
	if err != nil {
		return err
	}
	where := make([]string, len(stores))
	for i, s := range stores {
		where[i] = s.String()
	}
	switch {
	case rep.LastAnchor != nil:
		fmt.Fprintf(stdout, "anchors: %d in %s, the latest at entry %d written %s\n", rep.Anchors, strings.Join(where, ", "), rep.LastAnchor.Seq, rep.LastAnchor.At.UTC().Format(time.RFC3339))
	case rep.Checked > 0:
		fmt.Fprintf(stdout, "anchors: none in %s; without one, the last entries could be removed unnoticed (run storykeep audit anchor)\n", strings.Join(where, ", "))
	}
	if certErr != nil && len(anchors) > 0 {
		fmt.Fprintf(stdout, "anchor signatures not checked: %v\n", certErr)
	}
	if rep.Unlinked > 0 {
		fmt.Fprintf(stdout, "unlinked: %d entries waiting to be linked, the oldest recorded %s ago\n", rep.Unlinked, time.Since(rep.OldestUnlinked).Round(time.Second))
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "PROBLEM (%s) at entry %d: %s\n", p.Kind, p.Seq, p.Reason)
	}
	if rep.Broken != nil {
		return fmt.Errorf("audit chain BROKEN at entry %d: %s (%d entries before it verified; %d problems listed above)", rep.Broken.Seq, rep.Broken.Reason, max(rep.Broken.Seq-1, 0), len(rep.Problems))
	}
	fmt.Fprintf(stdout, "audit chain OK: %d entries, head %s\n", rep.Checked, rep.Head)
	return nil
}

// sealCert reads the seal certificate without creating a key: a check
// must never make a new key, which would match nothing.
func sealCert(cfg *config.Config) (*x509.Certificate, error) {
	dir := cfg.SealKeyDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "keys")
	}
	b, err := os.ReadFile(filepath.Join(dir, "seal.crt"))
	if err != nil {
		return nil, fmt.Errorf("no seal certificate in %s (set --data-dir or --seal-key-dir): %w", dir, err)
	}
	p, _ := pem.Decode(b)
	if p == nil {
		return nil, fmt.Errorf("%s/seal.crt is not PEM", dir)
	}
	return x509.ParseCertificate(p.Bytes)
}
