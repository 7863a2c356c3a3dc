package phi

import (
	"regexp"
	"strconv"
	"strings"
)

const (
	// English month names must be capitalised: "may" and "march" are verbs.
	enMonth = `(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)`
	esMonth = `(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)\b`
	day     = `(?:3[01]|[12][0-9]|0?[1-9])`
	ordDay  = day + `(?:st|nd|rd|th)?\b`
	year4   = `(?:1[89]|20)[0-9]{2}\b`
)

var (
	// reDateWords: "3 March 2021", "3rd of March", "March 3, 2021",
	// "Mar. 3", "March 2021" (month and year is still more than the year).
	reDateWords = regexp.MustCompile(`\b(?:` +
		ordDay + `\s+(?:of\s+)?` + enMonth + `(?:,?\s+` + year4 + `)?|` +
		enMonth + `\s+` + ordDay + `(?:,?\s+` + year4 + `)?|` +
		enMonth + `,?\s+(?:of\s+)?` + year4 + `)`)
	// reDateES: "3 de marzo de 2020", "3 de marzo", "marzo de 2020".
	reDateES = regexp.MustCompile(`(?i)\b(?:` + day + `(?:º|°)?\s+de\s+` + esMonth + `(?:\s+(?:de|del)\s+` + year4 + `)?|` +
		esMonth + `\s+(?:de|del)\s+` + year4 + `)`)
	// reDateNum: 03/14/2021, 14.03.2021, 3-14-21 (checked in numericDate).
	reDateNum = regexp.MustCompile(`\b(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4}|\d{2})\b`)
	// reDateShort: "on 6/2", believed only after a date word because a bare
	// "3/4" is more often a fraction or a score.
	reDateShort    = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})\b`)
	reDateShortCue = regexp.MustCompile(`(?i)\b(?:on|born|since|until|from|by|dated|admitted|discharged|el|desde)\s+$`)
	// reDateISO: 2021-03-14, 2021/3/14.
	reDateISO = regexp.MustCompile(`\b(\d{4})([/.-])(\d{1,2})([/.-])(\d{1,2})\b`)

	ageYears = `(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)old\b`
	// reAgeNum finds numbers next to an age word ("92 years old", "age 95",
	// "turned 90"); whichever group matched is then checked to be over 89.
	reAgeNum = regexp.MustCompile(`(?i)\b(?:(\d{2,3})` + ageYears +
		`|(\d{2,3})\s*(?:years?|yrs?)\s+of\s+age\b` +
		`|(?:age|aged)\s*(?:of\s+|:\s*)?(\d{2,3})\b` +
		`|(\d{2,3})[ -]?(?:y/o|y\.o\.|yo\b)` +
		`|(\d{2,3})\s+años\b` +
		`|turned\s+(\d{2,3})\b)`)
	// reAgeWords: ages over 89 that are over 89 by construction.
	reAgeWords = regexp.MustCompile(`(?i)\b(?:(?:ninety(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|(?:a|one)\s+hundred(?:\s+and\s+[a-z]+|[\s-][a-z]+)?)` + ageYears +
		`|in\s+(?:his|her|their)\s+(?:nineties|90s|90's)\b)`)
	// reBirthday: "her 95th birthday" also reveals the age.
	reBirthday = regexp.MustCompile(`(?i)\b(\d{2,3})(?:st|nd|rd|th)\s+birthday\b`)
)

// monthWords trigger the worded-date patterns.
var monthWords = set(`january february march april may june july august september october
	november december jan feb mar apr jun jul aug sep sept oct nov dec enero febrero marzo abril
	mayo junio julio agosto septiembre setiembre octubre noviembre diciembre`)

const (
	noteDate     = "a date more specific than the year"
	noteMonthYr  = "a month and year; Safe Harbor allows only the year"
	noteAge      = "an age over 89"
	noteBirthday = "a birthday that reveals an age over 89"
)

// scanDates finds dates more specific than a year. A bare year is allowed
// by Safe Harbor and is never reported.
func (s *scanner) scanDates() {
	t := s.text
	months := s.wordWindows(monthWords, 32, 32)
	for _, m := range s.findIn(reDateWords, months) {
		s.add(KindDate, m[0], m[1], dateNote(t[m[0]:m[1]]))
	}
	for _, m := range s.findIn(reDateES, months) {
		s.add(KindDate, m[0], m[1], dateNote(t[m[0]:m[1]]))
	}
	for _, m := range s.findIn(reDateNum, s.numeric()) {
		a, b := atoi(t[m[2]:m[3]]), atoi(t[m[6]:m[7]])
		ok := (validMonth(a) && validDay(b)) || (validDay(a) && validMonth(b))
		if ok && t[m[4]:m[5]] == t[m[8]:m[9]] && numberBounded(t, m[0], m[1]) {
			s.add(KindDate, m[0], m[1], noteDate)
		}
	}
	for _, m := range s.findIn(reDateShort, s.numeric()) {
		a, b := atoi(t[m[2]:m[3]]), atoi(t[m[4]:m[5]])
		ok := (validMonth(a) && validDay(b)) || (validDay(a) && validMonth(b))
		if ok && numberBounded(t, m[0], m[1]) && reDateShortCue.MatchString(window(t, m[0], 16)) {
			s.add(KindDate, m[0], m[1], noteDate)
		}
	}
	for _, m := range s.findIn(reDateISO, s.numeric()) {
		y, mo, d := atoi(t[m[2]:m[3]]), atoi(t[m[6]:m[7]]), atoi(t[m[10]:m[11]])
		ok := y >= 1800 && y <= 2199 && validMonth(mo) && validDay(d)
		if ok && t[m[4]:m[5]] == t[m[8]:m[9]] && numberBounded(t, m[0], m[1]) {
			s.add(KindDate, m[0], m[1], noteDate)
		}
	}
}

// dateNote tells the reviewer why a date without a day still matters.
func dateNote(d string) string {
	if reHasDay.MatchString(d) {
		return noteDate
	}
	return noteMonthYr
}

// reHasDay finds a one- or two-digit number: a day, not a year.
var reHasDay = regexp.MustCompile(`(?:^|\D)\d{1,2}(?:\D|$)`)

// scanAges finds ages over 89. Younger ages are not identifiers.
func (s *scanner) scanAges() {
	t := s.text
	for _, m := range s.findIn(reAgeNum, s.near()) {
		for g := 2; g < len(m); g += 2 {
			if m[g] >= 0 && over89(t[m[g]:m[g+1]]) {
				s.add(KindAge, m[0], m[1], noteAge)
			}
		}
	}
	if lower := strings.ToLower(t); strings.Contains(lower, "ninet") || strings.Contains(lower, "hundred") {
		for _, m := range reAgeWords.FindAllStringIndex(t, -1) {
			s.add(KindAge, m[0], m[1], noteAge)
		}
	}
	for _, m := range s.findIn(reBirthday, s.digitWindows(0, 12)) {
		if over89(t[m[2]:m[3]]) {
			s.add(KindAge, m[0], m[1], noteBirthday)
		}
	}
}

// over89 accepts 90 to 130: above that the number is more likely the age of
// a building or a tree than of a person.
func over89(n string) bool {
	v := atoi(n)
	return v > 89 && v <= 130
}

func validMonth(m int) bool { return m >= 1 && m <= 12 }
func validDay(d int) bool   { return d >= 1 && d <= 31 }

func atoi(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return v
}
