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

// TestBits: every channel owns a bit, the one migration 66 stored for it.
func TestBits(t *testing.T) {
	stored := map[string]int64{"website": 1, "facebook": 2, "instagram": 4, "linkedin": 8, "x": 16, "youtube": 32, "mastodon": 64, "bluesky": 128}
	var all int64
	for _, c := range All {
		b := Bits(c.Key)
		if b != stored[c.Key] || all&b != 0 {
			t.Errorf("channel %s: bit %d, migration 66 stored %d", c.Key, b, stored[c.Key])
		}
		all |= b
	}
	if len(All) != len(stored) || Bits("website", "x", "nowhere") != 17 || Bits() != 0 {
		t.Errorf("Bits of several channels: %d", Bits("website", "x", "nowhere"))
	}
}
