// Command storykeep runs the Storykeep server and its administrative tasks.
// Subcommands only; the application lives in app/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `storykeep — patient stories, consent and publishing

Usage:
  storykeep serve [flags]                 run the web server (migrates first)
  storykeep migrate up|status [flags]     apply or list database migrations
  storykeep user create --email E --name N --role R [--password-file F]
  storykeep user set-role --email E --role R
  storykeep audit verify                  prove the audit hash chain and compare it with every anchor
  storykeep audit link|anchor             link waiting audit entries / also write the chain head outside the database, now
  storykeep audit export --since T        signed JSON Lines of audit entries for a SIEM (verify-export FILE checks one)
  storykeep consent verify FILE.pdf|SHA256 check a consent certificate's seal, digests and status
  storykeep media check [--fix]           find media rows without objects and orphan objects
  storykeep retention list|purge [--yes]|hold|lift|holds  consent evidence past retention; legal holds
  storykeep backup DIR                    copy the SQLite database, media and key files to DIR, with SHA-256 sums
  storykeep restore DIR                   restore a backup into an empty data directory
  storykeep demo [--stories N] [--demo] [--force] [--no-showcase] [--published M]
                                          fill a fresh database with demo staff, a story at every stage and N more; M more published with consent (docs/demo.md)
  storykeep config [flags]                print the effective configuration, secrets redacted
  storykeep healthcheck                   exit 0 when this replica's /readyz answers 200 (container probes)
  storykeep version

Every setting is a flag, a STORYKEEP_* environment variable, or (secrets) a
STORYKEEP_*_FILE naming a file; run 'storykeep config --help' for the list.
Roles: admin, storyteller, reviewer, publisher.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], getenv, stdout)
	case "user":
		err = cmdUser(ctx, args[1:], getenv, stdout)
	case "audit":
		err = cmdAudit(ctx, args[1:], getenv, stdout)
	case "consent":
		err = cmdConsent(ctx, args[1:], getenv, stdout)
	case "media":
		err = cmdMedia(ctx, args[1:], getenv, stdout)
	case "retention":
		err = cmdRetention(ctx, args[1:], getenv, stdout)
	case "demo":
		err = cmdDemo(ctx, args[1:], getenv, stdout)
	case "backup":
		err = cmdBackup(ctx, args[1:], getenv, stdout)
	case "restore":
		err = cmdRestore(ctx, args[1:], getenv, stdout)
	case "config":
		err = cmdConfig(ctx, args[1:], getenv, stdout)
	case "healthcheck":
		err = cmdHealthcheck(ctx, args[1:], getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "storykeep", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "storykeep: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "storykeep:", err)
		return 1
	}
	return 0
}
