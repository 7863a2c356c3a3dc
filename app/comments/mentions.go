package comments

import (
	"regexp"
	"strings"
)

// mentionRE finds "@local" or "@local@domain.tld" not preceded by a word
// character, so an email address written in a comment is not a mention of
// its domain.
var mentionRE = regexp.MustCompile(`(?:^|[^\w@.])@([a-zA-Z0-9._%+\-]+(?:@[a-zA-Z0-9\-]+(?:\.[a-zA-Z0-9\-]+)+)?)`)

// Mentions returns the distinct, lower-cased mentions in body, in order,
// without the leading "@" and without trailing punctuation.
func Mentions(body string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(body, -1) {
		v := strings.ToLower(strings.TrimRight(m[1], ".-_"))
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}
