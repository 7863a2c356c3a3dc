package phi

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	notePatient = "the patient's own name"
	noteName    = "looks like a person's name"
)

// scanPatientNames reports every whole-word occurrence of the patient's
// full names and of each name part of two or more letters.
func (s *scanner) scanPatientNames(names []string) {
	for _, span := range findPhrases(s.text, namePhrases(names, true)) {
		s.add(KindPatientName, span[0], span[1], notePatient)
	}
}

// namePhrases returns each name and, when parts is set, each word of it
// (and each half of a hyphenated word) that has at least two letters.
func namePhrases(names []string, parts bool) []string {
	var out []string
	for _, n := range names {
		words := strings.Fields(n)
		if len(words) == 0 {
			continue
		}
		out = append(out, strings.Join(words, " "))
		if !parts {
			continue
		}
		for _, w := range words {
			w = strings.Trim(w, ".,;:()\"")
			out = append(out, w)
			if strings.Contains(w, "-") {
				out = append(out, strings.Split(w, "-")...)
			}
		}
	}
	var keep []string
	for _, p := range out {
		if utf8.RuneCountInString(p) >= 2 {
			keep = append(keep, p)
		}
	}
	return keep
}

// findPhrases returns the spans of whole-word, case- and accent-insensitive
// occurrences of any phrase, the longest at each position. Any run of white
// space in the text matches a space in a phrase.
func findPhrases(text string, phrases []string) [][2]int {
	if len(phrases) == 0 {
		return nil
	}
	folded := make([][]rune, len(phrases))
	for i, p := range phrases {
		for _, r := range p {
			folded[i] = append(folded[i], foldRune(r))
		}
	}
	var spans [][2]int
	prev := rune(-1)
	for pos := 0; pos < len(text); {
		r, size := utf8.DecodeRuneInString(text[pos:])
		if isWordRune(r) && !isWordRune(prev) {
			best := -1
			for _, f := range folded {
				if end, ok := matchFolded(text, pos, f); ok && end > best && wordBounded(text, pos, end) {
					best = end
				}
			}
			if best > 0 {
				spans = append(spans, [2]int{pos, best})
				prev, pos = -1, best
				continue
			}
		}
		prev = r
		pos += size
	}
	return spans
}

// matchFolded reports whether the folded phrase f occurs at text[pos:] and
// where it ends.
func matchFolded(text string, pos int, f []rune) (int, bool) {
	for _, want := range f {
		if pos >= len(text) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(text[pos:])
		if want == ' ' {
			if !unicode.IsSpace(r) {
				return 0, false
			}
			for pos < len(text) && unicode.IsSpace(r) {
				pos += size
				r, size = utf8.DecodeRuneInString(text[pos:])
			}
			continue
		}
		if foldRune(r) != want {
			return 0, false
		}
		pos += size
	}
	return pos, true
}

// accentFree maps accented letters to their base so that "Jose" finds
// "José" and the other way round.
var accentFree = map[rune]rune{
	'á': 'a', 'à': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a',
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e',
	'í': 'i', 'ì': 'i', 'î': 'i', 'ï': 'i',
	'ó': 'o', 'ò': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o',
	'ú': 'u', 'ù': 'u', 'û': 'u', 'ü': 'u',
	'ñ': 'n', 'ç': 'c', 'ý': 'y', 'ÿ': 'y',
	'’': '\'',
}

// foldRune lower-cases r and removes its accent.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	if b, ok := accentFree[r]; ok {
		return b
	}
	return r
}
