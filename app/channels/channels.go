// Package channels knows the publishing channels a story can target and how
// long each one's post may be, counted the way the network counts it, so the
// form, the save and (later) the export all agree on "too long".
package channels

import (
	"regexp"

	"github.com/rivo/uniseg"
)

// Channel is one place a story can be published.
type Channel struct {
	Key   string
	Label string
	// Limit is the maximum length of the channel's copy; 0 means the channel
	// takes no copy of its own (the website publishes the story body).
	Limit int
	// Unit names what Limit counts, shown next to the count.
	Unit string
	// URLWeight, when positive, is the length every web address counts as,
	// because the network shortens links to a fixed length.
	URLWeight int
	// Bit is the channel's own bit in stories.channel_bits (see Bits). It
	// is stored: never change or reuse one (migration 00066 wrote them).
	Bit uint8
}

// Social reports whether the channel needs its own copy.
func (c Channel) Social() bool { return c.Limit > 0 }

// All lists the channels in the order screens show them.
var All = []Channel{
	{Key: "website", Label: "Website", Bit: 0},
	{Key: "facebook", Label: "Facebook", Limit: 63206, Unit: "characters", Bit: 1},
	{Key: "instagram", Label: "Instagram", Limit: 2200, Unit: "characters", Bit: 2},
	{Key: "linkedin", Label: "LinkedIn", Limit: 3000, Unit: "characters", Bit: 3},
	{Key: "x", Label: "X", Limit: 280, Unit: "characters (links count as 23)", URLWeight: 23, Bit: 4},
	{Key: "youtube", Label: "YouTube description", Limit: 5000, Unit: "characters", Bit: 5},
	{Key: "mastodon", Label: "Mastodon", Limit: 500, Unit: "characters", Bit: 6},
	{Key: "bluesky", Label: "Bluesky", Limit: 300, Unit: "graphemes", Bit: 7},
}

// Bits returns the stories.channel_bits of a story targeting keys: each
// known channel's own bit (unknown keys have none). A story targets a
// channel exactly when the channel's bit is set, so the story list filters
// on the bits alone.
func Bits(keys ...string) int64 {
	var bits int64
	for _, k := range keys {
		if c, ok := Get(k); ok {
			bits |= 1 << c.Bit
		}
	}
	return bits
}

// Label is the channel's name on screens, or key itself for an unknown one.
func Label(key string) string {
	if c, ok := Get(key); ok {
		return c.Label
	}
	return key
}

// Labels is Label of each key, in order.
func Labels(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = Label(k)
	}
	return out
}

// Get returns the channel with key.
func Get(key string) (Channel, bool) {
	for _, c := range All {
		if c.Key == key {
			return c, true
		}
	}
	return Channel{}, false
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Count returns the length of text as channel c counts it: user-perceived
// characters (grapheme clusters, so an emoji with modifiers is one), with
// each web address counted as URLWeight when the network shortens links.
func Count(c Channel, text string) int {
	if c.URLWeight <= 0 {
		return uniseg.GraphemeClusterCount(text)
	}
	n, last := 0, 0
	for _, m := range urlRE.FindAllStringIndex(text, -1) {
		n += uniseg.GraphemeClusterCount(text[last:m[0]]) + c.URLWeight
		last = m[1]
	}
	return n + uniseg.GraphemeClusterCount(text[last:])
}

// Over reports how far text is over c's limit (0 when it fits).
func Over(c Channel, text string) int {
	if !c.Social() {
		return 0
	}
	return max(0, Count(c, text)-c.Limit)
}
