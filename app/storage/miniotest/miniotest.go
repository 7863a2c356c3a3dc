// Package miniotest runs a real MinIO server for tests, so the S3 store is
// tested against the same server software as production instead of a mock.
//
// Use Run from TestMain to share one server across a test binary; without it
// each Start launches its own server and stops it when the test ends.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/storykeep/storykeep/app/storage"
)

// InstallHint tells a developer how to get the binary; it is printed when the
// binary is missing.
const InstallHint = "install it with `go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c` " +
	"(or scripts/minio.sh), or point STORYKEEP_MINIO_BIN at a minio binary"

var shared struct {
	sync.Mutex
	enabled bool    // set by Run
	srv     *server // started on first Start when enabled
	err     error
}

// Run runs the tests with one MinIO server shared by every Start, and stops
// it afterwards. Use it as: func TestMain(m *testing.M) { os.Exit(miniotest.Run(m)) }
func Run(m *testing.M) int {
	shared.Lock()
	shared.enabled = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.srv != nil {
		shared.srv.stop()
	}
	return code
}

// Start returns the config of a fresh, empty, already created bucket on a
// running MinIO server (CreateBucket is false). It skips the test when the
// binary is missing, or fails it when CI=true, where skipping would hide
// that the S3 tests did not run.
func Start(t testing.TB) storage.S3Config {
	t.Helper()
	return start(t, false)
}

// StartLocked is Start with a bucket created with Object Lock enabled (as
// `mc mb --with-lock` does), which also turns on versioning.
func StartLocked(t testing.TB) storage.S3Config {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, locking bool) storage.S3Config {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("miniotest: %v; %s", err, InstallHint)
		}
		t.Skipf("miniotest: %v; %s", err, InstallHint)
	}
	srv, err := serverFor(t, bin)
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	cfg := srv.cfg
	cfg.Bucket = "test-" + randHex(8)
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatalf("miniotest: client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: locking}); err != nil {
		t.Fatalf("miniotest: make bucket %s: %v\n%s", cfg.Bucket, err, srv.logTail())
	}
	t.Logf("miniotest: bucket %s on MinIO at %s (%s)", cfg.Bucket, cfg.Endpoint, bin)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Best effort: frees disk early; the whole server dir goes at the end.
		client.RemoveBucketWithOptions(ctx, cfg.Bucket, minio.RemoveBucketOptions{ForceDelete: true})
	})
	return cfg
}

// serverFor returns the shared server, or a per-test one stopped by t.Cleanup
// when Run is not in use.
func serverFor(t testing.TB, bin string) (*server, error) {
	shared.Lock()
	defer shared.Unlock()
	if !shared.enabled {
		srv, err := startServer(bin)
		if err == nil {
			t.Cleanup(srv.stop)
		}
		return srv, err
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = startServer(bin)
	}
	return shared.srv, shared.err
}

// findBinary looks where a developer or CI would have put minio:
// $STORYKEEP_MINIO_BIN, PATH, $GOBIN, $GOPATH/bin, ~/go/bin. It reads the
// environment rather than running the go command.
func findBinary() (string, error) {
	if p := os.Getenv("STORYKEEP_MINIO_BIN"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("STORYKEEP_MINIO_BIN=%s is not an executable file", p)
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var tried, dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(os.Getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if d == "" || d == "bin" {
			continue
		}
		p := filepath.Join(d, "minio")
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("minio binary not found on PATH or in %s", strings.Join(tried, ", "))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// freePort asks the kernel for an unused loopback port. Another process can
// take it before MinIO binds it; startServer retries when that happens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitLive polls the liveness endpoint until MinIO answers and reports its
// object layer initialised (it answers 200 before that, with a header saying
// it is offline).
func waitLive(endpoint string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("minio exited during startup")
		default:
		}
		resp, err := client.Get("http://" + endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("x-minio-server-status") != "offline" {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("minio not live after %s", timeout)
}
