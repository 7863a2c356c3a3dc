package disclosure

import (
	"strings"
	"testing"
)

// FuzzNamesRedaction checks the name rule on any plain text: after Text has
// rewritten it under a consent that withholds the surname (first name only)
// or every name (anonymous), Leak finds no withheld form in what a reader
// would see. Text with markup or an address is left out: bodies go through
// the HTML-aware rewrite, and a name inside a URL is refused by Check, not
// rewritten.
func FuzzNamesRedaction(f *testing.F) {
	for _, s := range []string{
		"María Elena López walked again.", "M&#97;ria L&#111;pez thanks the team", "Lo\u00adpez and Ló\u200bpez",
		"MARÍA LÓPEZ-RUIZ", "López's recovery", "lopezs", "Maria  Lopez", "Ｌｏｐｅｚ", "ma&shy;ria",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, anonymous bool) {
		if strings.ContainsAny(s, "<>") || urlRE.MatchString(strings.ToLower(unescapeAll(s))) {
			return
		}
		usage := NameFirst
		if anonymous {
			usage = NameAnonymous
		}
		n := NewNames("María Elena López-Ruiz", "Mari", usage)
		out := n.Text(s)
		if leak := n.Leak(out); leak != "" {
			t.Fatalf("Text(%q) = %q still names %q", s, out, leak)
		}
	})
}
