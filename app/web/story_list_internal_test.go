package web

import (
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestListRowWriters: the list's hand-written escaping and time format give
// exactly what template.HTMLEscapeString and time.Format give.
func TestListRowWriters(t *testing.T) {
	for _, s := range []string{"", "plain title", `Maria <script>alert("x")</script> & "friends"`, "it's", "nul\x00byte", "Señora Núñez — “ok”", "a>b", "&amp;"} {
		var b strings.Builder
		escapeTo(&b, s)
		if want := template.HTMLEscapeString(s); b.String() != want {
			t.Errorf("escapeTo(%q) = %q, want %q", s, b.String(), want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{time.Date(999, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(10000, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(2026, 1, 9, 0, 5, 0, 0, time.UTC)}
	for range 2000 {
		times = append(times, time.Unix(rng.Int64N(1<<36), 0).UTC())
	}
	for _, at := range times {
		var b strings.Builder
		writeMinute(&b, at)
		if want := at.Format("2006-01-02 15:04"); b.String() != want {
			t.Fatalf("writeMinute(%v) = %q, want %q", at, b.String(), want)
		}
	}
}
