package phi

import (
	"regexp"
	"strings"
	"unicode"
)

// Most patterns need a digit (or an "@", "://", ":" ...) to match, and story
// prose has few of them. Running each pattern only over small windows around
// those characters keeps a scan fast without changing what it finds: windows
// are widened to white space, so \b and the patterns' own edges behave as
// they would on the whole text.

// maxWiden bounds how far a window grows looking for white space, so that
// text without spaces cannot make a scan quadratic.
const maxWiden = 256

// digitWindows returns merged windows reaching before bytes back from, and
// after bytes on from, every run of digits. A match is found as long as its
// text before its first digit, after its last digit and between two digit
// runs is no longer than before+after allows.
func (s *scanner) digitWindows(before, after int) [][2]int {
	if s.whole {
		return s.all()
	}
	key := [2]int{before, after}
	if w, ok := s.wins[key]; ok {
		return w
	}
	t := s.text
	var wins [][2]int
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) {
			continue
		}
		j := i
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		wins = appendWindow(wins, widenLeft(t, max(0, i-before)), widenRight(t, min(len(t), j+after)))
		i = j
	}
	if s.wins == nil {
		s.wins = map[[2]int][][2]int{}
	}
	s.wins[key] = wins
	return wins
}

// tokenWindows returns the white-space-delimited tokens for which keep holds.
func (s *scanner) tokenWindows(keep func(tok string) bool) [][2]int {
	if s.whole {
		return s.all()
	}
	var wins [][2]int
	t := s.text
	for i := 0; i < len(t); {
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		j := i
		for j < len(t) && !isSpace(t[j]) {
			j++
		}
		if j > i && keep(t[i:j]) {
			wins = append(wins, [2]int{i, j})
		}
		i = j
	}
	return wins
}

func appendWindow(wins [][2]int, start, end int) [][2]int {
	if n := len(wins); n > 0 && start <= wins[n-1][1] {
		wins[n-1][1] = max(wins[n-1][1], end)
		return wins
	}
	return append(wins, [2]int{start, end})
}

func widenLeft(t string, p int) int {
	for stop := max(0, p-maxWiden); p > stop && !isSpace(t[p-1]); p-- {
	}
	return p
}

func widenRight(t string, p int) int {
	for stop := min(len(t), p+maxWiden); p < stop && !isSpace(t[p]); p++ {
	}
	return p
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}

// wordWindows returns merged windows from before bytes ahead of to after
// bytes past every token whose key is in words, keeping only windows that
// hold a digit: keyword-led patterns ("MRN ...", "March 3") need one.
func (s *scanner) wordWindows(words map[string]bool, before, after int) [][2]int {
	if s.whole {
		return s.all()
	}
	t := s.text
	var wins [][2]int
	for _, tok := range s.tokens() {
		if anyPart(words, tok.key) {
			wins = appendWindow(wins, widenLeft(t, max(0, tok.start-before)), widenRight(t, min(len(t), tok.rawEnd+after)))
		}
	}
	kept := wins[:0]
	for _, w := range wins {
		if strings.ContainsAny(t[w[0]:w[1]], "0123456789") {
			kept = append(kept, w)
		}
	}
	return kept
}

// anyPart reports whether key, a hyphenated part of it ("non-member"), or
// the letters before a glued-on number ("mrn12345678") is in words.
func anyPart(words map[string]bool, key string) bool {
	for key != "" {
		p, rest, _ := strings.Cut(key, "-")
		if words[p] || words[leadingLetters(p)] {
			return true
		}
		key = rest
	}
	return false
}

func isNotLetter(r rune) bool { return !unicode.IsLetter(r) }

// leadingLetters returns the letters p starts with.
func leadingLetters(p string) string {
	if i := strings.IndexFunc(p, isNotLetter); i >= 0 {
		return p[:i]
	}
	return p
}

func (s *scanner) all() [][2]int { return [][2]int{{0, len(s.text)}} }

// tokens returns the words of the text, computed once per scan.
func (s *scanner) tokens() []token {
	if s.toks == nil {
		s.toks = tokenize(s.text)
	}
	return s.toks
}

// findIn runs re over each window and returns its submatch indexes as
// offsets into the whole text.
func (s *scanner) findIn(re *regexp.Regexp, wins [][2]int) [][]int {
	var out [][]int
	for _, w := range wins {
		for _, m := range re.FindAllStringSubmatchIndex(s.text[w[0]:w[1]], -1) {
			for i := range m {
				if m[i] >= 0 {
					m[i] += w[0]
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// numeric returns the white-space-delimited tokens that hold a digit, for
// patterns made of digits and punctuation only (SSNs, numeric dates, ZIPs).
func (s *scanner) numeric() [][2]int { return s.digitWindows(0, 0) }

// near returns windows for patterns whose words sit close to their digits
// ("92 years old", "(555) 123-4567").
func (s *scanner) near() [][2]int { return s.digitWindows(24, 24) }

func hasASCIILetterAfterDot(tok string) bool {
	for i := 1; i+1 < len(tok); i++ {
		if tok[i] == '.' && isAlnum(tok[i-1]) && isAlnum(tok[i+1]) && !isDigit(tok[i+1]) {
			return true
		}
	}
	return false
}

func looksLikeURL(tok string) bool {
	return strings.Contains(tok, "://") || strings.Contains(strings.ToLower(tok), "www.")
}
