// Command testsum reads `go test -json` on stdin and prints what a plain
// `go test` prints (package results, and the output of failing tests), then
// every skipped test with its reason, and a last line
//
//	N passed, N failed, N skipped
//
// It exits non-zero when a test or a build failed, when go test's stream
// ended early, or, with -fail-on-skip (CI), when any test was skipped: a skip
// in CI means a check silently did not run. Subtests count like tests.
//
// A small tool instead of gotestsum so `make test` needs nothing from the
// network beyond the module cache.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

type summary struct {
	passed, failed, skipped int
	pkgFailed               bool
	skips                   []string
	// output of the tests still running, per package and test, kept to be
	// printed if the test fails.
	buf map[string][]string
}

func main() {
	failOnSkip := flag.Bool("fail-on-skip", false, "a skipped test fails the run (set under CI)")
	label := flag.String("label", "", "printed in the summary, e.g. the database name")
	totals := flag.String("totals", "", "append \"passed failed skipped\" to this file, to add up several runs")
	flag.Parse()
	s := run(os.Stdin, os.Stdout)
	if *totals != "" {
		f, err := os.OpenFile(*totals, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d %d %d\n", s.passed, s.failed, s.skipped)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Println("testsum:", err)
			os.Exit(1)
		}
	}
	fmt.Println()
	if len(s.skips) > 0 {
		sort.Strings(s.skips)
		fmt.Printf("skipped tests%s:\n", suffix(*label))
		for _, k := range s.skips {
			fmt.Println("  " + k)
		}
	}
	code := 0
	switch {
	case s.failed > 0 || s.pkgFailed:
		code = 1
	case *failOnSkip && s.skipped > 0:
		fmt.Printf("FAIL: %d skipped tests, and skips are not allowed under CI=true: install what they name\n", s.skipped)
		code = 1
	case s.skipped > 0:
		fmt.Println("(with CI=true these skips fail the run)")
	}
	fmt.Printf("%d passed, %d failed, %d skipped%s\n", s.passed, s.failed, s.skipped, suffix(*label))
	os.Exit(code)
}

func suffix(label string) string {
	if label == "" {
		return ""
	}
	return " (" + label + ")"
}

func run(in io.Reader, out io.Writer) *summary {
	s := &summary{buf: map[string][]string{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event: go vet or build errors on stderr merged in.
			fmt.Fprintln(out, string(line))
			continue
		}
		s.add(e, out)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsum:", err)
		s.pkgFailed = true
	}
	return s
}

func (s *summary) add(e event, out io.Writer) {
	key := e.Package + " " + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(out, e.Output)
	case "build-fail":
		s.pkgFailed = true
	case "output":
		if e.Test == "" {
			// Package lines: "ok ...", "FAIL ...", "--- FAIL" summaries, panics
			// outside tests. Leave out the per-test run lines of -v.
			if !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" {
				fmt.Fprint(out, e.Output)
			}
			return
		}
		s.buf[key] = append(s.buf[key], e.Output)
	case "pass":
		if e.Test != "" {
			s.passed++
		}
		delete(s.buf, key)
	case "skip":
		if e.Test == "" {
			return // a package without tests
		}
		s.skipped++
		s.skips = append(s.skips, e.Package+" "+e.Test+": "+skipReason(s.buf[key]))
		delete(s.buf, key)
	case "fail":
		if e.Test == "" {
			s.pkgFailed = true
			return
		}
		s.failed++
		for _, l := range s.buf[key] {
			fmt.Fprint(out, l)
		}
		delete(s.buf, key)
	}
}

// skipReason is the t.Skip message: the output lines after "=== RUN" and
// before "--- SKIP", trimmed.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}
