package website

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/storykeep/storykeep/app/stories"
)

// redactor rewrites public text so the patient is named no more than their
// consent allows. It errs on the side of hiding: surname parts are matched
// on their own, ignoring case and accents, so "Lopez" is caught when the
// record says "López".
type redactor struct {
	re    *regexp.Regexp
	with  string // the replacement: the first name, or a neutral term
	usage string
}

// neutral is what an anonymous patient is called.
const neutral = "the patient"

// newRedactor builds the rewrite for a patient named fullName (also known as
// preferred) under usage. With NameFull it changes nothing.
func newRedactor(fullName, preferred, usage string) *redactor {
	r := &redactor{usage: usage}
	words := strings.Fields(fullName)
	if usage == NameFull || len(words) == 0 {
		return r
	}
	hide := []string{strings.Join(words, " ")}
	first := words[0]
	for _, w := range words[1:] { // "Maria Lopez" for "Maria Elena Lopez"
		hide = append(hide, first+" "+w)
	}
	for i, w := range words {
		parts := append([]string{w}, strings.FieldsFunc(w, func(r rune) bool { return r == '-' || r == '\'' || r == '’' })...)
		for _, p := range parts {
			p = strings.Trim(p, ".,;:()\"")
			if utf8.RuneCountInString(p) < 2 || (i == 0 && usage == NameFirst && p == first) {
				continue
			}
			hide = append(hide, p)
		}
	}
	r.with = first
	if usage != NameFirst {
		r.with = neutral
		if p := strings.TrimSpace(preferred); p != "" {
			hide = append(hide, p)
		}
	}
	// Longest first, so the full name wins over its parts.
	slices.SortFunc(hide, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	hide = slices.Compact(hide)
	alts := make([]string, len(hide))
	for i, h := range hide {
		alts[i] = loosePattern(h)
	}
	// A title before the name goes with it: "Ms. López" becomes "Maria".
	r.re = regexp.MustCompile(`(?i)(?:(?:mr|mrs|ms|miss|mx|dr)\.?\s+)?(?:` + strings.Join(alts, "|") + `)`)
	return r
}

// variants lets a plain letter match its accented forms and the reverse.
var variants = map[rune]string{'a': "aáàâäãåā", 'e': "eéèêëē", 'i': "iíìîïī", 'o': "oóòôöõøō", 'u': "uúùûüū",
	'n': "nñ", 'c': "cç", 'y': "yýÿ", 's': "sšś", 'z': "zžź"}

func loosePattern(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		if b.Len() > 0 {
			b.WriteString(`[\s\p{Z}]+`)
		}
		for _, r := range w {
			base := []rune(norm.NFD.String(string(unicode.ToLower(r))))[0]
			if v, ok := variants[base]; ok {
				b.WriteString("[" + v + "]")
			} else {
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
	}
	return b.String()
}

// Text rewrites s. Matches inside longer words ("Lopezville") are left alone.
func (r *redactor) Text(s string) string {
	if r.re == nil {
		return s
	}
	var b strings.Builder
	last, replaced := 0, false
	for _, m := range r.re.FindAllStringIndex(s, -1) {
		if !boundary(s, m[0], m[1]) {
			continue
		}
		// "Elena Lopez" is one mention, not two: adjacent matches merge.
		if !(replaced && strings.TrimSpace(s[last:m[0]]) == "") {
			b.WriteString(s[last:m[0]])
			b.WriteString(r.replacement(s[:m[0]]))
		}
		last, replaced = m[1], true
	}
	b.WriteString(s[last:])
	return b.String()
}

func (r *redactor) replacement(before string) string {
	if r.with != neutral {
		return r.with
	}
	t := strings.TrimRight(before, " \t*_")
	if t == "" || strings.ContainsAny(t[len(t)-1:], ".!?\n#>\"") || strings.HasSuffix(t, "“") {
		return "The patient"
	}
	return neutral
}

func boundary(s string, i, j int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[j:])
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	return (i == 0 || !word(before)) && (j == len(s) || !word(after))
}

// Hides reports whether s still names the patient beyond the consent.
func (r *redactor) Hides(s string) bool { return r.Text(s) != s }

// Slug drops the patient's name from a staff slug, so a public address
// never names the patient whatever the consent says.
func publicSlug(slug, fullName, preferred string) string {
	names := map[string]bool{}
	for _, w := range strings.Fields(fullName + " " + preferred) {
		for _, p := range strings.Split(stories.Slugify(w), "-") {
			names[p] = p != ""
		}
	}
	var keep []string
	for _, p := range strings.Split(slug, "-") {
		if !names[p] && p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "story"
	}
	return strings.Join(keep, "-")
}
