// Package e2e holds Storykeep's browser tests: each test starts a real
// `storykeep serve` process on its own database and drives it with a headless
// Chromium through the DevTools protocol (chromedp), checking what a person
// sees, running axe-core on every page, and saving screenshots and HTML when
// something fails.
//
// The package has test files only and no build tag, so `go test ./...` runs
// it. It needs Chromium (STORYKEEP_CHROMIUM, /usr/bin/chromium or chromium on
// PATH) and axe-core (`npm ci --prefix e2e`); without them the tests skip,
// except under CI=true, where they fail.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/storykeep/storykeep/app/dbtest"
)

// binary is the storykeep executable TestMain builds once for all tests.
var binary string

// TestMain builds the storykeep binary from this tree, runs the tests, and
// drops the PostgreSQL template database dbtest may have made.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "storykeep-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "storykeep")
	gobin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: the go command is needed to build storykeep:", err)
		return 1
	}
	build := exec.Command(gobin, "build", "-o", binary, "./cmd/storykeep")
	build.Dir = ".." // the repository root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build ./cmd/storykeep:", err)
		return 1
	}
	code := m.Run()
	dbtest.DropTemplate()
	return code
}

// ci reports whether the tests run in CI (CI=true), where missing tools are
// failures rather than skips.
func ci() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}
