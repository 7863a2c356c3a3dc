// Package tsatest starts a real RFC 3161 timestamp authority (sigstore's
// timestamp-server, installed by scripts/tsa.sh) for tests.
package tsatest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start runs a timestamp server on a free local port and returns its
// timestamp URL (POST application/timestamp-query). The server stops when
// the test ends. The server always opens its metrics listener on port
// 2112, which it cannot be told to move, so one server runs on the machine
// at a time: a lock file makes tests in other packages (run in parallel by
// go test) wait their turn instead of failing.
func Start(t testing.TB) string {
	t.Helper()
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "storykeep-tsatest.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() }) // runs last: after the server has stopped
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "tsa.sh")
	var stderr bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/tsa.sh: %v\n%s", err, stderr.String())
	}
	bin := strings.TrimSpace(string(out))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := exec.Command(bin, "serve", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--timestamp-signer", "memory")
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	setDeathSignal(srv)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/api/v1/timestamp/certchain")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timestamp server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base + "/api/v1/timestamp"
}
