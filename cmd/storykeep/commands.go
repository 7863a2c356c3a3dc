package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/app/web"
)

func version() string {
	if web.Version != "dev" {
		return web.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func loadConfig(args []string, getenv func(string) string) (*config.Config, error) {
	for _, a := range args {
		if a == "--help" || a == "-help" || a == "-h" {
			var b strings.Builder
			b.WriteString("Settings (flag, environment variable, default):\n")
			for _, s := range config.Settings {
				fmt.Fprintf(&b, "  --%-24s %-34s %q\n      %s\n", s.Name, s.Env, s.Default, s.Help)
			}
			return nil, errors.New(b.String())
		}
	}
	return config.Load(args, getenv)
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg, stderr)
	web.Version = version()
	if getenv("GOGC") == "" {
		// A server's live heap is small (about 20 MB) and most of what it
		// allocates is garbage after one request: collecting at 5× the live
		// heap instead of 2× took the list from 1,770 to 2,280 requests a
		// second on 2 cores, for about 100 MB resident. GOGC overrides it.
		debug.SetGCPercent(400)
	}
	if limit := serveMemoryLimit(getenv, readCgroup); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	pw, err := a.Users.EnsureFirstAdmin(ctx, cfg.AdminEmail)
	if err != nil {
		return err
	}
	if pw != "" {
		// Printed once, to the terminal, never to the log; the account must
		// choose its own password at first sign-in.
		fmt.Fprintf(stdout, "\n  First admin created.\n  Sign in at %s/login\n  Email:    %s\n  Password: %s\n  (shown once; you will choose your own password after signing in)\n\n", cfg.PublicURL, cfg.AdminEmail, pw)
	}
	return a.Serve(ctx, nil)
}

// openCurrentDB opens the database for a command and checks that it is
// migrated to this release's schema; closeDB closes it.
func openCurrentDB(ctx context.Context, cfg *config.Config) (gdb *gorm.DB, closeDB func(), err error) {
	if gdb, err = app.OpenDB(cfg); err != nil {
		return nil, nil, err
	}
	closeDB = func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	}
	if err := db.CheckCurrent(ctx, gdb); err != nil {
		closeDB()
		return nil, nil, err
	}
	return gdb, closeDB, nil
}

// openServices opens the database (migrated and current) and the services
// commands need, without the web server.
func openServices(ctx context.Context, cfg *config.Config) (*users.Service, *audit.Log, func(), error) {
	gdb, closeDB, err := openCurrentDB(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	keys, err := crypto.LoadOrCreate(cfg.EncryptionKeys, cfg.DataDir+"/keys")
	if err != nil {
		closeDB()
		return nil, nil, nil, err
	}
	log := audit.New(gdb)
	svc := users.New(gdb, log, keys, users.Limits{PerAccount: cfg.LoginMaxFailures, PerIP: cfg.LoginIPMaxFailures, Window: cfg.LoginWindow})
	// What a command recorded is linked before it exits: no server may be
	// running to do it.
	return svc, log, func() { _, _ = log.Link(ctx); closeDB() }, nil
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		return errors.New("usage: storykeep migrate up|status")
	}
	cfg, err := loadConfig(args[1:], getenv)
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
	if args[0] == "up" {
		n, err := db.Migrate(ctx, gdb)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return nil
	}
	st, err := db.Status(ctx, gdb)
	if err != nil {
		return err
	}
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied " + m.At
		}
		fmt.Fprintf(stdout, "%05d  %-40s %s\n", m.Version, m.Name, state)
	}
	return nil
}

func cmdUser(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: storykeep user create|set-role …")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "the user's email")
	name := fs.String("name", "", "the user's name")
	role := fs.String("role", "", "admin, storyteller, reviewer or publisher")
	pwFile := fs.String("password-file", "", "file holding the password (otherwise one is generated and printed)")
	// Config flags come after "--".
	rest := []string{}
	for i, a := range args[1:] {
		if a == "--" {
			rest = args[i+2:]
			args = args[:i+1]
			break
		}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%v (usage: storykeep user %s --email E …)", err, args[0])
	}
	cfg, err := loadConfig(rest, getenv)
	if err != nil {
		return err
	}
	svc, _, closeDB, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = audit.WithActor(ctx, audit.Actor{ID: "cli", Label: "command line"})
	switch args[0] {
	case "create":
		pw, generated := "", false
		if *pwFile != "" {
			b, err := os.ReadFile(*pwFile)
			if err != nil {
				return fmt.Errorf("--password-file: %w", err)
			}
			pw = strings.TrimRight(string(b), "\r\n")
		} else {
			pw, generated = auth.RandomPassword(), true
		}
		u, err := svc.Create(ctx, users.NewUser{Email: *email, Name: *name, Role: *role, Password: pw, MustChangePassword: generated})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s) id=%s\n", u.Email, u.Role, u.ID)
		if generated {
			fmt.Fprintf(stdout, "temporary password: %s (must be changed at first sign-in)\n", pw)
		}
		return nil
	case "set-role":
		u, err := svc.GetByEmail(ctx, *email)
		if err != nil {
			return err
		}
		if err := svc.SetRole(ctx, u.ID, *role); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", u.Email, *role)
		return nil
	}
	return fmt.Errorf("unknown user command %q (create, set-role)", args[0])
}

func cmdConfig(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	for _, l := range cfg.Redacted() {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintln(stdout, "# write-once evidence (object lock): "+writeOnce(ctx, cfg))
	return nil
}

// writeOnce says whether evidence is kept write-once: for S3 the bucket is
// asked whether it has Object Lock (nothing is created); local disk keeps
// evidence files read-only and refuses to delete them before their date.
func writeOnce(ctx context.Context, cfg *config.Config) string {
	if cfg.MediaBackend != "s3" {
		return storage.WriteOnce{Active: true, Mode: storage.ModeLocal}.String()
	}
	st, err := storage.NewS3(ctx, storage.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
		AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseTLS: cfg.S3UseTLS, PathStyle: cfg.S3PathStyle, LockMode: cfg.S3LockMode})
	if err != nil {
		return "unknown: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return st.WriteOnce(ctx).String()
}

// cmdHealthcheck asks the local server's /readyz; containers without a shell
// or curl use it as their health probe.
func cmdHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.ListenAddr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s %s", res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}
