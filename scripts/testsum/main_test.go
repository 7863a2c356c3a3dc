package main

import (
	"strings"
	"testing"
)

// TestSkipsAreCounted: the summary counts passes, failures and skips (subtests
// too), keeps each skip's reason and prints only failing tests' output.
func TestSkipsAreCounted(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"quiet\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB/sub","Output":"    b_test.go:9: chromium not found\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB/sub","Output":"--- SKIP: TestB/sub (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestB/sub"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: boom\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}`,
		`{"Action":"fail","Package":"p"}`,
		`# p/q`,
		`{"Action":"skip","Package":"p/empty"}`,
	}, "\n")
	var out strings.Builder
	s := run(strings.NewReader(in), &out)
	if s.passed != 1 || s.failed != 1 || s.skipped != 1 || !s.pkgFailed {
		t.Fatalf("counts %d/%d/%d pkgFailed=%v", s.passed, s.failed, s.skipped, s.pkgFailed)
	}
	if len(s.skips) != 1 || s.skips[0] != "p TestB/sub: b_test.go:9: chromium not found" {
		t.Fatalf("skips %q", s.skips)
	}
	got := out.String()
	for _, want := range []string{"c_test.go:3: boom", "FAIL\tp\t0.1s", "# p/q"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
}
