package disclosure

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Name usages a patient can choose; anything else is treated as no consent.
const (
	NameFull      = "full"
	NameFirst     = "first_name"
	NameAnonymous = "anonymous"
)

// neutral is what an anonymous patient is called.
const neutral = "the patient"

// Names knows which forms of the patient's name the chosen usage withholds,
// rewrites text so they do not appear, and checks final bytes for any that
// survived. Matching is done on folded text (see fold): HTML entities
// decoded, NFKC/NFKD, soft hyphens, zero-width and other format characters
// removed, case and diacritics folded, Markdown emphasis inside a word
// ignored, and a trailing possessive "s" accepted ("johns-recovery").
type Names struct {
	Usage string
	// First is the first word of the full name, shown under NameFirst.
	First string
	// withheld are the folded name forms that must not appear, longest
	// first ("maria elena lopez", "lopez-ruiz", "lopez", "ruiz", "elena").
	withheld []string
	re       *regexp.Regexp
}

// NewNames builds the rules for a patient called fullName (also known as
// preferred) under usage. An unknown usage withholds everything, like
// anonymous: the safe reading of a choice not understood.
func NewNames(fullName, preferred, usage string) *Names {
	n := &Names{Usage: usage}
	words := strings.Fields(fullName)
	if len(words) > 0 {
		n.First = strings.Trim(words[0], ".,;:()\"")
	}
	if usage == NameFull || len(words) == 0 {
		return n
	}
	if usage != NameFirst {
		n.Usage = NameAnonymous
	}
	firstF := foldString(n.First)
	var hide []string
	add := func(s string) {
		f := strings.Join(strings.Fields(foldString(s)), " ")
		f = strings.Trim(f, ".,;:()\"'")
		if utf8.RuneCountInString(f) < 2 || (n.Usage == NameFirst && f == firstF) {
			return
		}
		hide = append(hide, f)
	}
	addName := func(name string) {
		ws := strings.Fields(name)
		if len(ws) > 1 {
			add(strings.Join(ws, " "))
			for _, w := range ws[1:] { // "Maria Lopez" for "Maria Elena Lopez"
				add(ws[0] + " " + w)
				for _, p := range strings.FieldsFunc(w, func(r rune) bool { return r == '-' || unicode.Is(unicode.Pd, r) }) {
					add(ws[0] + " " + p)
				}
			}
		}
		for _, w := range ws {
			add(w)
			for _, p := range strings.FieldsFunc(w, func(r rune) bool { return r == '-' || r == '\'' || r == '’' || unicode.Is(unicode.Pd, r) }) {
				add(p)
			}
		}
	}
	addName(fullName)
	if p := strings.TrimSpace(preferred); p != "" {
		if n.Usage == NameFirst {
			// A one-word preferred name is a first name the patient goes
			// by; its other words are not.
			if ws := strings.Fields(p); len(ws) > 1 {
				for _, w := range ws[1:] {
					add(w)
				}
			}
		} else {
			addName(p)
		}
	}
	slices.SortFunc(hide, func(a, b string) int {
		if d := utf8.RuneCountInString(b) - utf8.RuneCountInString(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	n.withheld = slices.Compact(hide)
	if len(n.withheld) == 0 {
		return n
	}
	alts := make([]string, len(n.withheld))
	for i, h := range n.withheld {
		alts[i] = namePattern(h)
	}
	// A title before the name goes with it: "Ms. López" becomes "Maria".
	n.re = regexp.MustCompile(`(?:(?:mr|mrs|ms|miss|mx|dr)\.?[\s*_~` + "`" + `]+)?(?:` + strings.Join(alts, "|") + `)s?`)
	return n
}

// emph are Markdown emphasis characters a reader does not see inside a
// word: "**Ma**ria" reads "Maria".
const emph = "*_~`"

// namePattern matches folded name h, letting emphasis characters sit
// between its letters and any run of spaces, hyphens or emphasis between
// its words.
func namePattern(h string) string {
	var b strings.Builder
	for i, w := range strings.Fields(h) {
		if i > 0 {
			b.WriteString(`[\s\-*_~` + "`" + `]+`)
		}
		for j, r := range w {
			if j > 0 {
				b.WriteString("[*_~`]*")
			}
			if r == '-' || r == '\'' {
				b.WriteString(`[\s\-'*_~` + "`" + `]*`)
				continue
			}
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// Withheld reports whether the usage hides anything at all.
func (n *Names) Withheld() bool { return n.re != nil }

// foldRune is how a reader's eye sees r: compatibility-decomposed, marks
// dropped, lower case; invisible format characters (soft hyphen,
// zero-width space/joiners, bidi marks) vanish; dashes and apostrophes take
// one form each.
func foldRune(r rune) string {
	switch {
	case r == '\u00AD' || unicode.Is(unicode.Cf, r) || r == '\u034F' || r == '\u180E':
		return ""
	case unicode.Is(unicode.Pd, r) || r == '\u2212':
		return "-"
	case r == '’' || r == 'ʼ' || r == '‘' || r == '′':
		return "'"
	case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
		return " "
	}
	switch r { // letters NFKD does not decompose
	case 'ø', 'Ø':
		return "o"
	case 'ł', 'Ł':
		return "l"
	case 'đ', 'Đ':
		return "d"
	case 'ß':
		return "ss"
	case 'æ', 'Æ':
		return "ae"
	case 'œ', 'Œ':
		return "oe"
	case 'ı':
		return "i"
	}
	if r < utf8.RuneSelf {
		return string(unicode.ToLower(r))
	}
	var b strings.Builder
	for _, c := range norm.NFKD.String(string(r)) {
		if unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Me, c) {
			continue
		}
		if c == '\u00AD' || unicode.Is(unicode.Cf, c) {
			continue
		}
		b.WriteString(strings.ToLower(string(c)))
	}
	return b.String()
}

func foldString(s string) string {
	var b strings.Builder
	for _, r := range norm.NFC.String(s) {
		b.WriteString(foldRune(r))
	}
	return b.String()
}

// folded is s folded, with for every folded byte the span of s it came from.
type folded struct {
	s          string
	start, end []int
}

func foldMap(s string) folded {
	f := folded{}
	var b strings.Builder
	for i, r := range s {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			size = 1
		}
		out := foldRune(r)
		b.WriteString(out)
		for range len(out) {
			f.start = append(f.start, i)
			f.end = append(f.end, i+size)
		}
	}
	f.s = b.String()
	return f
}

// match is one mention, in bytes of the folded text.
type match struct{ a, b int }

// mentions finds withheld names in folded text fs, whole words only.
func (n *Names) mentions(fs string) []match {
	if n.re == nil {
		return nil
	}
	var out []match
	for _, m := range n.re.FindAllStringIndex(fs, -1) {
		if boundary(fs, m[0], m[1]) {
			out = append(out, match{m[0], m[1]})
		}
	}
	return out
}

func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func boundary(s string, i, j int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[j:])
	return (i == 0 || !isWord(before)) && (j == len(s) || !isWord(after))
}

// Text rewrites plain text s: HTML entities are decoded first (a reader of
// a feed or a post sees "&#97;" as "a"), then every withheld mention is
// replaced by the first name or "the patient". Adjacent mentions ("Elena
// Lopez") become one.
func (n *Names) Text(s string) string {
	s = unescapeAll(s)
	if n.re == nil {
		return s
	}
	return n.rewrite(s)
}

// edit replaces s[a:e] with repl.
type edit struct {
	a, e int
	repl string
}

// urlRE finds addresses in plain text. A name inside one is not rewritten
// (that would only break the link): it is left for Check to refuse.
var urlRE = regexp.MustCompile(`(?i)(?:https?://|www\.)[^\s<>"]+`)

// edits lists the replacements of the mentions in s. Adjacent mentions
// ("Elena Lopez", "<b>Ma</b> Lopez") merge into one, and under NameFirst a
// mention right after the first name is dropped ("María López" reads
// "María", not "María María").
func (n *Names) edits(s string) []edit {
	f := foldMap(s)
	urls := urlRE.FindAllStringIndex(s, -1)
	inURL := func(a, e int) bool {
		for _, u := range urls {
			if a < u[1] && e > u[0] {
				return true
			}
		}
		return false
	}
	firstF := foldString(n.First)
	var out []edit
	last := -1
	for _, m := range n.mentions(f.s) {
		a, e := f.start[m.a], f.end[m.b-1]
		if a < last || inURL(a, e) {
			continue
		}
		if last >= 0 && strings.Trim(s[last:a], " \t\u00a0"+emph) == "" {
			out[len(out)-1].e = e
			last = e
			continue
		}
		ed := edit{a, e, n.replacement(s[:a])}
		if n.Usage == NameFirst && firstF != "" {
			before := strings.TrimRight(s[:a], " \t\u00a0"+emph)
			if fb := foldString(before); strings.HasSuffix(fb, firstF) && boundary(fb, len(fb)-len(firstF), len(fb)) {
				ed.a, ed.repl = len(before), ""
			}
		}
		out = append(out, ed)
		last = e
	}
	return out
}

func (n *Names) rewrite(s string) string {
	var b strings.Builder
	last := 0
	for _, ed := range n.edits(s) {
		b.WriteString(s[last:ed.a])
		b.WriteString(ed.repl)
		last = ed.e
	}
	b.WriteString(s[last:])
	return b.String()
}

func (n *Names) replacement(before string) string {
	if n.Usage == NameFirst {
		return n.First
	}
	t := strings.TrimRight(before, " \t*_")
	if t == "" || strings.ContainsAny(t[len(t)-1:], ".!?\n#>\"") || strings.HasSuffix(t, "“") {
		return "The patient"
	}
	return neutral
}

// unescapeAll decodes HTML entities until nothing changes (at most three
// rounds), so "&amp;#97;" is caught as well as "&#97;".
func unescapeAll(s string) string {
	for range 3 {
		if !strings.Contains(s, "&") {
			return s
		}
		u := html.UnescapeString(s)
		if u == s {
			return s
		}
		s = u
	}
	return s
}

var (
	tagRE     = regexp.MustCompile(`<[^<>]*>`)
	attrValRE = regexp.MustCompile(`=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	inlineRE  = regexp.MustCompile(`(?i)^</?(a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|i|ins|kbd|mark|q|s|samp|small|span|strong|sub|sup|time|u|var)\b`)
	jsonEscRE = regexp.MustCompile(`\\u00(26|3[cCeE]|27|22)`)
)

// readable turns final bytes (HTML, XML, JSON or plain text) into what a
// reader could see: JSON escapes of markup characters undone, tags removed
// (inline ones without a space, so "<b>Ma</b>ria" reads "Maria"), attribute
// values kept (alt text, links), entities decoded, repeatedly, since a
// feed's HTML is itself escaped inside XML.
func readable(s string) string {
	s = jsonEscRE.ReplaceAllStringFunc(s, func(m string) string {
		switch strings.ToLower(m[4:]) {
		case "26":
			return "&"
		case "3c":
			return "<"
		case "3e":
			return ">"
		case "27":
			return "'"
		}
		return `"`
	})
	for range 4 {
		s = tagRE.ReplaceAllStringFunc(s, func(tag string) string {
			var vals []string
			for _, m := range attrValRE.FindAllStringSubmatch(tag, -1) {
				vals = append(vals, strings.Trim(m[1], `"'`))
			}
			sep := " "
			if inlineRE.MatchString(tag) {
				sep = ""
			}
			if len(vals) == 0 {
				return sep
			}
			return " " + strings.Join(vals, " ") + sep
		})
		u := html.UnescapeString(s)
		if u == s {
			break
		}
		s = u
	}
	return s
}

// Leak returns the first withheld name form found in b as a reader would
// see it, or "" when there is none.
func (n *Names) Leak(b string) string {
	if n.re == nil {
		return ""
	}
	fs := foldString(readable(b))
	if ms := n.mentions(fs); len(ms) > 0 {
		return fs[ms[0].a:ms[0].b]
	}
	// URL paths and slugs run words together with hyphens and drop the
	// apostrophe: "johns-recovery".
	return ""
}

// Check refuses bytes that still name the patient beyond the consent, with
// an error naming the field. Every exit calls it on what it is about to
// send; it is the last line, after Text has rewritten the fields.
func (n *Names) Check(field, b string) error {
	if n.Leak(b) != "" {
		return &LeakError{Field: field}
	}
	return nil
}

// PublicSlug drops every name word from a staff slug, possessive and
// plural forms included ("johns"), so a public address never names the
// patient whatever the consent says.
func PublicSlug(slug, fullName, preferred string) string {
	names := map[string]bool{}
	for _, w := range strings.Fields(fullName + " " + preferred) {
		for _, p := range strings.FieldsFunc(slugFold(w), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			names[p], names[p+"s"] = true, true
		}
	}
	var keep []string
	for _, p := range strings.Split(slugFold(slug), "-") {
		if p != "" && !names[p] {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "story"
	}
	return strings.Join(keep, "-")
}

func slugFold(s string) string {
	var b strings.Builder
	for _, r := range foldString(s) {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case r == '\'':
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
