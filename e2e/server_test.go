package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/organisation"
)

// Server is a running `storykeep serve` subprocess with its own data
// directory and database.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234 (no slash).
	URL string
	// AdminEmail and AdminPassword are the first admin's credentials, the
	// one-time password read from what serve printed on stdout.
	AdminEmail, AdminPassword string

	cmd            *exec.Cmd
	done           chan error
	stdout, stderr *syncBuffer
}

var (
	adminEmailRe    = regexp.MustCompile(`(?m)^\s*Email:\s+(\S+)\s*$`)
	adminPasswordRe = regexp.MustCompile(`(?m)^\s*Password:\s+(\S+)\s*$`)
)

// StartServer starts storykeep serve on a free 127.0.0.1 port with a fresh
// data directory and database (SQLite, or PostgreSQL when
// STORYKEEP_TEST_DB=postgres, chosen by dbtest), waits for /readyz and for the
// first admin's password, and stops it with SIGTERM when the test ends,
// failing the test unless it exits 0.
//
// extraEnv adds settings for this server, each as "STORYKEEP_NAME=value"
// (for example STORYKEEP_MAIL_MODE=smtp with the address of an smtptest
// server); they come after, and so override, the harness's own.
func StartServer(t *testing.T, extraEnv ...string) *Server {
	t.Helper()
	for _, kv := range extraEnv {
		if !strings.HasPrefix(kv, "STORYKEEP_") || !strings.Contains(kv, "=") {
			t.Fatalf("e2e: StartServer setting %q: want STORYKEEP_NAME=value", kv)
		}
	}
	var lastErr error
	for range 3 { // a free port can be taken between choosing and listening
		s, err := startServer(t, extraEnv)
		if err == nil {
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("e2e: start storykeep: %v", lastErr)
	return nil
}

func startServer(t *testing.T, extraEnv []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &Server{URL: "http://" + addr, done: make(chan error, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}

	dbcfg := dbtest.New(t)
	dbURL := dbcfg.DSN
	if dbcfg.Driver == "sqlite" {
		dbURL = "sqlite:" + dbcfg.DSN
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STORYKEEP_") { // the developer's own settings must not leak in
			env = append(env, kv)
		}
	}
	env = append(env,
		"STORYKEEP_LISTEN="+addr,
		"STORYKEEP_PUBLIC_URL="+s.URL,
		"STORYKEEP_DATA_DIR="+t.TempDir(),
		"STORYKEEP_DATABASE_URL="+dbURL,
		"STORYKEEP_SHUTDOWN_GRACE=5s",
	)
	env = append(env, extraEnv...)
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()

	if err := s.waitReady(30 * time.Second); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
		return nil, fmt.Errorf("%w\nstderr:\n%s", err, tail(s.stderr.String(), 4000))
	}
	t.Cleanup(func() { s.stop(t) })
	if err := seedOrganisation(dbcfg); err != nil {
		return nil, err
	}
	return s, nil
}

// seedOrganisation sets the organisation's contact details, as an admin
// does at Admin → Organisation before the first consent request.
func seedOrganisation(dbcfg config.DB) error {
	gdb, err := db.Open(dbcfg)
	if err != nil {
		return err
	}
	defer func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	}()
	return organisation.New(gdb, audit.New(gdb)).Save(audit.WithActor(context.Background(), audit.System), "",
		organisation.Profile{LegalName: "Storykeep Test Hospital, Inc.", PostalAddress: "1 Main Street\nSpringfield, IL 62701",
			Phone: "+1 555 010 0100", PrivacyEmail: "privacy@hospital.test", TimeZone: "America/Chicago"})
}

// waitReady polls /readyz until it answers 200 and stdout holds the admin's
// password, or the process exits, or the time is up.
func (s *Server) waitReady(limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	ready := false
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("storykeep serve exited before it was ready: %v", err)
		default:
		}
		if !ready {
			if res, err := client.Get(s.URL + "/readyz"); err == nil {
				res.Body.Close()
				ready = res.StatusCode == http.StatusOK
			}
		}
		if ready {
			out := s.stdout.String()
			pw, em := adminPasswordRe.FindStringSubmatch(out), adminEmailRe.FindStringSubmatch(out)
			if pw != nil && em != nil {
				s.AdminPassword, s.AdminEmail = pw[1], em[1]
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ready {
		return fmt.Errorf("storykeep serve is ready but printed no first-admin password; stdout:\n%s", s.stdout.String())
	}
	return fmt.Errorf("storykeep serve not ready at %s/readyz within %s", s.URL, limit)
}

// stop sends SIGTERM and requires a clean exit (status 0) within 30s.
func (s *Server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("e2e: SIGTERM storykeep: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("e2e: storykeep serve did not exit cleanly on SIGTERM: %v\nstderr:\n%s", err, tail(s.stderr.String(), 4000))
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("e2e: storykeep serve still running 30s after SIGTERM; killed")
	}
	if t.Failed() {
		t.Logf("storykeep serve stderr (last 4000 bytes):\n%s", tail(s.stderr.String(), 4000))
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
