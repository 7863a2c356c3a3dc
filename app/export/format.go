package export

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/storykeep/storykeep/app/channels"
)

// Rule is how a network counts and limits a post.
type Rule struct {
	Limit       int
	Unit        string
	Count       func(text string) int
	MaxHashtags int    // 0: no limit
	MaxMedia    int    // images per post
	Rendition   string // which crop the network shows best
	TitleLimit  int    // YouTube
	NeedsPhoto  bool   // the network refuses a post without an image
}

// Rules are the networks' own limits (2025): X counts with twitter-text
// weights and every URL as 23; Mastodon counts code points with every URL as
// 23 (its limit comes from the instance); Bluesky counts graphemes.
var Rules = map[string]Rule{
	"x":         {Limit: 280, Unit: "characters (links count as 23)", Count: countX, MaxMedia: 4, Rendition: "x"},
	"bluesky":   {Limit: 300, Unit: "graphemes", Count: uniseg.GraphemeClusterCount, MaxMedia: 4, Rendition: "x"},
	"mastodon":  {Limit: 500, Unit: "characters (links count as 23)", Count: countMastodon, MaxMedia: 4, Rendition: "x"},
	"instagram": {Limit: 2200, Unit: "characters", Count: uniseg.GraphemeClusterCount, MaxHashtags: 5, MaxMedia: 10, Rendition: "instagram-portrait", NeedsPhoto: true},
	"linkedin":  {Limit: 3000, Unit: "characters", Count: uniseg.GraphemeClusterCount, MaxMedia: 9, Rendition: "opengraph"},
	"facebook":  {Limit: 63206, Unit: "characters", Count: uniseg.GraphemeClusterCount, MaxMedia: 10, Rendition: "opengraph"},
	"youtube":   {Limit: 5000, Unit: "characters", Count: uniseg.GraphemeClusterCount, MaxMedia: 1, Rendition: "x", TitleLimit: 100},
}

var (
	urlRE     = regexp.MustCompile(`https?://[^\s<>"]+`)
	hashtagRE = regexp.MustCompile(`(?:^|\s)#[\p{L}\p{N}_]+`)
)

// compose joins the copy and the link the way every network shows it.
func compose(p Post) string {
	text := strings.TrimSpace(p.Copy)
	if p.Link != "" {
		if text != "" {
			text += "\n\n"
		}
		text += p.Link
	}
	return text
}

// formatWith formats p under rule r, refusing what the network would refuse.
func formatWith(p Post, r Rule) (Formatted, error) {
	text := compose(p)
	f := Formatted{Channel: p.Channel, Text: text, Link: p.Link, Count: r.Count(text), Limit: r.Limit, Unit: r.Unit}
	if len(p.Media) > r.MaxMedia {
		f.Media = p.Media[:r.MaxMedia]
	} else {
		f.Media = p.Media
	}
	if r.TitleLimit > 0 {
		f.Title = strings.TrimSpace(p.Title)
		if n := uniseg.GraphemeClusterCount(f.Title); n > r.TitleLimit {
			return f, &TooLongError{Channel: p.Channel, What: "title", Count: n, Limit: r.TitleLimit, Unit: "characters"}
		}
	}
	if f.Count > r.Limit {
		return f, &TooLongError{Channel: p.Channel, What: "post", Count: f.Count, Limit: r.Limit, Unit: r.Unit}
	}
	if r.MaxHashtags > 0 {
		if n := len(hashtagRE.FindAllString(text, -1)); n > r.MaxHashtags {
			return f, &RefusedError{Msg: channels.Label(p.Channel) + " allows at most " + strconv.Itoa(r.MaxHashtags) + " hashtags; this post has " + strconv.Itoa(n) + "."}
		}
	}
	if p.Channel == "bluesky" {
		f.Facets = linkFacets(text)
	}
	return f, nil
}

// linkFacets marks every URL with its UTF-8 byte range (AT Protocol facets
// index bytes, not characters).
// A link stops before trailing punctuation (".", ",", ")" without its "("
// …), as Bluesky's own client marks it.
func linkFacets(text string) []Facet {
	var out []Facet
	for _, m := range urlRE.FindAllStringIndex(text, -1) {
		end := m[0] + len(trimURL(text[m[0]:m[1]]))
		out = append(out, Facet{ByteStart: m[0], ByteEnd: end, URI: text[m[0]:end]})
	}
	return out
}

// trimURL drops trailing punctuation that ends a sentence rather than the
// link, and a closing bracket that has no opening one inside the link.
func trimURL(u string) string {
	for len(u) > 0 {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"*", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		case last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

func countMastodon(text string) int { return countURLs(text, 23, utf8.RuneCountInString) }

// countURLs counts text with fn and every URL as weight.
func countURLs(text string, weight int, fn func(string) int) int {
	n, last := 0, 0
	for _, m := range urlRE.FindAllStringIndex(text, -1) {
		n += fn(text[last:m[0]]) + weight
		last = m[1]
	}
	return n + fn(text[last:])
}

// countX follows twitter-text v3: code points in the Latin and general
// punctuation ranges weigh 1, everything else (CJK, emoji…) 2, an emoji
// sequence counts once as 2, and URLs count 23.
func countX(text string) int {
	return countURLs(text, 23, func(s string) int {
		n := 0
		g := uniseg.NewGraphemes(s)
		for g.Next() {
			rs := g.Runes()
			if isEmoji(rs) {
				n += 2
				continue
			}
			for _, r := range rs {
				n += xWeight(r)
			}
		}
		return n
	})
}

func xWeight(r rune) int {
	switch {
	case r <= 4351, r >= 8192 && r <= 8205, r >= 8208 && r <= 8223, r >= 8242 && r <= 8247:
		return 1
	}
	return 2
}

func isEmoji(rs []rune) bool {
	for _, r := range rs {
		if r >= 0x1F000 || r == 0x200D || r == 0xFE0F || (r >= 0x2600 && r <= 0x27BF) {
			return true
		}
	}
	return false
}
