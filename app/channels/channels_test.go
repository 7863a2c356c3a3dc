package channels

import (
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	x, _ := Get("x")
	bs, _ := Get("bluesky")
	for _, tc := range []struct {
		c    Channel
		text string
		want int
	}{
		{x, "hello", 5},
		{x, "read https://example.org/a/very/long/path/that/goes/on today", 5 + 23 + 6},
		{bs, "👩‍⚕️ café", 6},
		{bs, "e\u0301", 1},
	} {
		if got := Count(tc.c, tc.text); got != tc.want {
			t.Errorf("Count(%s, %q) = %d, want %d", tc.c.Key, tc.text, got, tc.want)
		}
	}
	if Over(x, strings.Repeat("a", 281)) != 1 || Over(x, strings.Repeat("a", 280)) != 0 {
		t.Error("X limit is 280")
	}
	if w, _ := Get("website"); w.Social() {
		t.Error("website takes no copy")
	}
}

func TestLabel(t *testing.T) {
	if got := Labels([]string{"x", "website", "myspace"}); got[0] != "X" || got[1] != "Website" || got[2] != "myspace" {
		t.Fatalf("labels %q", got)
	}
}
