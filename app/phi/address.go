package phi

import (
	"regexp"
	"strings"
)

const (
	streetFull = `(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Place|Way|Terrace|Circle|Parkway|Highway|Route|Trail|Square|Alley|Loop|Plaza|Pike|Row|Crescent|Close|Walk|Path|Ridge|Heights)\b`
	streetAbbr = `(?:St|Ave|Av|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Cir|Pkwy|Hwy|Rte|Trl|Sq|Aly|Pt|Hts)\b\.?`
	streetDir  = `(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\b\.?`
	// streetWord is a capitalised name word ("Oak", "O'Neil") or an
	// ordinal ("5th").
	streetWord = `(?:[A-Z][\p{L}'’-]*\.?|\d{1,3}(?:st|nd|rd|th))`
	streetUnit = `(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|Bldg|Building)\.?\s*#?\s*(?:\d[A-Za-z0-9-]*|[A-Z]\b)|,?\s+#\s*\d[A-Za-z0-9-]*)?`
)

var (
	reStreet = regexp.MustCompile(`\b\d{1,6}[A-Za-z]?\s+(?:` + streetDir + `\s+)?(?:` + streetWord + `\s+){1,4}?(?:` +
		streetFull + `|` + streetAbbr + `)(?:\s+(?:NE|NW|SE|SW|N|S|E|W)\b\.?)?` + streetUnit)
	// reCalle covers Spanish-style addresses: "Calle Mayor 12",
	// "Avenida de la Reforma 222".
	reCalle = regexp.MustCompile(`\b(?:Calle|C/|Avenida|Avda\.|Paseo|Camino|Carrera|Pasaje|Ronda)\s+(?:(?:de|del|la|las|los|el)\s+|\p{Lu}[\p{L}'’.-]*\s+){1,5}(?:(?:No\.?|Nº|n\.?º|#)\s*)?\d{1,5}[A-Za-z]?\b`)
	rePOBox = regexp.MustCompile(`(?i)\b(?:P\.?\s?O\.?\s*Box|Post\s+Office\s+Box|Apartado(?:\s+Postal)?)\s+#?\s*\d+\b`)
	reZIP   = regexp.MustCompile(`\b\d{5}(?:-\d{4})?\b`)
	// reZIPWord: "ZIP 02115", "zip code: 02115", "código postal 28001".
	reZIPWord = regexp.MustCompile(`(?i)\b(?:zip(?:\s*code)?|postal\s+code|post\s*code|c[oó]digo\s+postal|c\.p\.)\s*(?:#|:|is|was)?\s*$`)
	// reZIPState: a state name or USPS abbreviation right before the ZIP.
	reZIPState = regexp.MustCompile(`(?:\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|PR|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)|(?i:\b(?:` +
		strings.ReplaceAll(strings.Join(stateNames, "|"), " ", `\s+`) + `)))\.?,?\s+$`)
)

// stateNames are the US states, DC and Puerto Rico, lower case.
var stateNames = []string{
	"alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware",
	"district of columbia", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa",
	"kansas", "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota",
	"mississippi", "missouri", "montana", "nebraska", "nevada", "new hampshire", "new jersey",
	"new mexico", "new york", "north carolina", "north dakota", "ohio", "oklahoma", "oregon",
	"pennsylvania", "puerto rico", "rhode island", "south carolina", "south dakota", "tennessee",
	"texas", "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming",
}

// calleWords start Spanish-style addresses ("c" is the "C" of "C/").
var calleWords = set(`calle c avenida avda paseo camino carrera pasaje ronda`)

const (
	noteAddress = "a street address"
	noteZIP     = "a ZIP code"
)

// scanAddresses finds street addresses and post-office boxes.
func (s *scanner) scanAddresses() {
	for _, m := range s.findIn(reStreet, s.digitWindows(0, 96)) {
		s.add(KindAddress, m[0], m[1], noteAddress)
	}
	for _, m := range s.findIn(rePOBox, s.digitWindows(32, 0)) {
		s.add(KindAddress, m[0], m[1], noteAddress)
	}
	for _, m := range s.findIn(reCalle, s.wordWindows(calleWords, 0, 96)) {
		s.add(KindAddress, m[0], m[1], noteAddress)
	}
}

// scanZIPs reports five-digit and ZIP+4 codes only where something says they
// are ZIP codes (a state, the word "ZIP", or a street address just before),
// because a bare five-digit number is usually something else.
func (s *scanner) scanZIPs() {
	t := s.text
	for _, m := range s.findIn(reZIP, s.numeric()) {
		if !numberBounded(t, m[0], m[1]) {
			continue
		}
		w := window(t, m[0], 30)
		if reZIPWord.MatchString(w) || reZIPState.MatchString(w) || s.afterAddress(m[0]) {
			s.add(KindZIP, m[0], m[1], noteZIP)
		}
	}
}

// afterAddress reports whether an address finding ends shortly before pos,
// as in "12 Oak Ave, Springfield 62704".
func (s *scanner) afterAddress(pos int) bool {
	for _, f := range s.found {
		if f.Kind == KindAddress && f.End <= pos && pos-f.End <= 60 &&
			!strings.Contains(s.text[f.End:pos], "\n\n") {
			return true
		}
	}
	return false
}
