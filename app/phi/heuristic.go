package phi

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of the text, as the name heuristic sees it.
type token struct {
	start, end int    // byte span; end excludes a possessive "'s"
	rawEnd     int    // end including the possessive
	key        string // lower case, possessive removed, ’ folded to '
	capital    bool   // "Maria", "O'Neil", or a single capital letter
}

type class int

const (
	clsName class = iota
	clsParticle
	clsTitle
	clsOrg
	clsStop
)

// scanNames applies the capitalised-name heuristic: two or more name-like
// capitalised words in a row ("Maria Lopez"), or one after a title
// ("Dr. Grant"). Words that name places, institutions, dates or that simply
// start sentences are excluded, as are the cleared AllowNames.
func (s *scanner) scanNames(allow []string) {
	toks := s.tokens()
	allowed := findPhrases(s.text, namePhrases(allow, false))
	for i := 0; i < len(toks); {
		j := s.runEnd(toks, i)
		if j == i {
			i++
			continue
		}
		s.nameRun(toks, i, j, allowed)
		i = j
	}
}

// runEnd returns the end (exclusive) of the run of capitalised words, with
// lower-case particles ("de la") inside, that starts at toks[i].
func (s *scanner) runEnd(toks []token, i int) int {
	if !toks[i].capital {
		return i
	}
	j := i + 1
	for j < len(toks) && toks[j-1].end == toks[j-1].rawEnd && s.joined(toks[j-1], toks[j]) {
		switch {
		case toks[j].capital:
			j++
		case particles[toks[j].key]:
			// A particle only belongs to the run if a capital follows.
			k := j + 1
			for k < len(toks) && particles[toks[k].key] && s.joined(toks[k-1], toks[k]) {
				k++
			}
			if k < len(toks) && toks[k].capital && s.joined(toks[k-1], toks[k]) {
				j = k + 1
			} else {
				return j
			}
		default:
			return j
		}
	}
	return j
}

// joined reports whether only white space (or the full stop of an
// abbreviation such as "Dr." or an initial) separates a and b.
func (s *scanner) joined(a, b token) bool {
	gap := s.text[a.rawEnd:b.start]
	if strings.HasPrefix(gap, ".") && (abbreviations[a.key] || utf8.RuneCountInString(a.key) == 1) {
		gap = gap[1:]
	}
	if gap == "" || strings.Count(gap, "\n") > 1 {
		return false
	}
	return strings.TrimLeft(gap, " \t\r\n\u00a0") == ""
}

// introGap accepts "husband Carlos" and "husband, Carlos".
func (s *scanner) introGap(a, b token) bool {
	gap := strings.TrimPrefix(s.text[a.rawEnd:b.start], ",")
	return gap != "" && strings.TrimLeft(gap, " \t\u00a0") == ""
}

// nameRun splits the run toks[i:j] into segments of name words and reports
// those that look like a person.
func (s *scanner) nameRun(toks []token, i, j int, allowed [][2]int) {
	introduced := i > 0 && introducers[toks[i-1].key] && !toks[i-1].capital && s.introGap(toks[i-1], toks[i])
	cls := make([]class, j-i)
	for k := i; k < j; k++ {
		cls[k-i] = classify(toks[k], allowed)
	}
	for k := i; k < j; k++ {
		if !ambiguousMonths[toks[k].key] || cls[k-i] != clsName {
			continue
		}
		nextIsName := k+1 < j && cls[k+1-i] == clsName
		prevIsPrep := k > 0 && datePrepositions[toks[k-1].key]
		if !nextIsName || prevIsPrep {
			cls[k-i] = clsStop
		}
	}
	for a := 0; a < len(cls); {
		if cls[a] != clsName {
			a++
			continue
		}
		b := a
		for b < len(cls) && (cls[b] == clsName || cls[b] == clsParticle) {
			b++
		}
		for cls[b-1] == clsParticle {
			b--
		}
		s.nameSegment(toks[i:j], cls, a, b, introduced)
		a = b
	}
}

// nameSegment reports run[a:b] as a name unless it is part of an
// institution or place name, or is a lone word without a title. introduced
// says the run follows a word such as "husband" or "named".
func (s *scanner) nameSegment(run []token, cls []class, a, b int, introduced bool) {
	if (a > 0 && cls[a-1] == clsOrg) || (b < len(cls) && cls[b] == clsOrg) {
		return
	}
	words := 0
	for k := a; k < b; k++ {
		if cls[k] == clsName && utf8.RuneCountInString(run[k].key) > 1 {
			words++ // initials such as the "J." of "Michael J. Fox" do not count
		}
	}
	titled := (a > 0 && cls[a-1] == clsTitle) || (a == 0 && introduced)
	if words > 5 || (words < 2 && !titled) {
		return
	}
	s.add(KindName, run[a].start, run[b-1].end, noteName)
}

func classify(t token, allowed [][2]int) class {
	for _, sp := range allowed {
		if sp[0] < t.end && t.start < sp[1] {
			return clsStop
		}
	}
	switch {
	case !t.capital:
		return clsParticle
	case titles[t.key]:
		return clsTitle
	case isOrgWord(t.key):
		return clsOrg
	case stopWords[t.key] || isAdverb(t.key):
		return clsStop
	}
	return clsName
}

// isOrgWord reports institution, place and condition words; a name-like
// word next to one ("Mercy Hospital", "Cystic Fibrosis") is not a person.
func isOrgWord(k string) bool {
	if orgWords[k] {
		return true
	}
	for _, suf := range conditionSuffixes {
		if strings.HasSuffix(k, suf) && len(k) > len(suf)+2 {
			return true
		}
	}
	return false
}

// isAdverb catches sentence openers such as "Thankfully" and "Sadly"
// without catching names that end in "ly" (Emily, Kelly, Sally).
func isAdverb(k string) bool {
	for _, suf := range adverbSuffixes {
		if strings.HasSuffix(k, suf) && len(k) > len(suf)+1 {
			return true
		}
	}
	return false
}

// tokenize splits text into words: letters, digits and marks, with inner
// apostrophes and hyphens ("O'Neil", "García-López").
func tokenize(text string) []token {
	var toks []token
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		start := i
		i += size
		for i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
			if isWordRune(r) {
				i += size
				continue
			}
			if r == '\'' || r == '’' || r == '-' {
				if next, _ := utf8.DecodeRuneInString(text[i+size:]); i+size < len(text) && unicode.IsLetter(next) {
					i += size
					continue
				}
			}
			break
		}
		t := newToken(text, start, i)
		if i-start == 1 && start > 0 && text[start-1] == '.' {
			t.capital = false // the "S" of "U.S."
		}
		toks = append(toks, t)
	}
	return toks
}

func newToken(text string, start, end int) token {
	t := token{start: start, end: end, rawEnd: end}
	w := text[start:end]
	for _, p := range []string{"'s", "’s", "'S", "’S"} {
		if strings.HasSuffix(w, p) && len(w) > len(p) {
			t.end -= len(p)
			w = w[:len(w)-len(p)]
			break
		}
	}
	t.key = strings.ToLower(strings.ReplaceAll(w, "’", "'"))
	first, size := utf8.DecodeRuneInString(w)
	rest := w[size:]
	t.capital = (unicode.IsUpper(first) || unicode.IsTitle(first)) &&
		(rest == "" || strings.IndexFunc(rest, unicode.IsLower) >= 0)
	if rest == "" && !unicode.IsLetter(first) {
		t.capital = false
	}
	return t
}
