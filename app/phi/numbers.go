package phi

import (
	"regexp"
	"slices"
)

var (
	// rePhoneUS: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567.
	rePhoneUS = regexp.MustCompile(`(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?`)
	// rePhoneIntl: +44 20 7946 0958, +34 612-345-678; digits are counted later.
	rePhoneIntl = regexp.MustCompile(`\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,6}`)
	// rePhoneBare: 555-1234 or 5551234567, only believed after a phone word.
	rePhoneBare  = regexp.MustCompile(`\b(?:\d{3}-\d{4}|\d{10})\b`)
	rePhoneWord  = regexp.MustCompile(`(?i)\b(?:phone|tel|telephone|cell|cellphone|mobile|call|called|text|office|home|work|pager|number|tel[eé]fono|celular|m[oó]vil|fax)\b`)
	reNonFaxWord = regexp.MustCompile(`(?i)\b(?:phone|tel|telephone|cell|cellphone|mobile|call|office|home|pager|tel[eé]fono|celular|m[oó]vil)\b`)
	reFaxWord    = regexp.MustCompile(`(?i)\bfax`)
	reSSN        = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)
	reSSNKeyed   = regexp.MustCompile(`(?i)\b(?:ssn|ss#|social\s+security(?:\s+(?:number|no\.?|#))?)(?:\s*(?:#|:|no\.?|number|is|was))*\s*(\d{3}[ -]?\d{2}[ -]?\d{4})\b`)
	reVIN        = regexp.MustCompile(`\b[A-HJ-NPR-Z0-9]{17}\b`)
	reRecord     = keyedRe(
		`mrn|mr\s?#|medical\s+record|health\s+record|hospital\s+(?:number|no\.?)|acct\.?|account|health\s+plan(?:\s+(?:member|beneficiary|subscriber))?|historia\s+cl[ií]nica`,
		`member|membership|policy|insurance|group|plan|certificate|cert\.?|claim|case|record|patient|chart|enrol+ment|beneficiary|subscriber|medicaid|medicare|tricare|reference|ref\.?`)
	reLicense = keyedRe(
		`licen[cs]e\s+plate|number\s+plate|registration\s+plate|driver(?:'|’)?s?\s+licen[cs]e|driving\s+licen[cs]e|vin|vehicle\s+identification\s+number|serial\s+(?:number|no\.?|#)|s/n|device\s+(?:id|identifier|serial(?:\s+number)?)|udi|imei|placa|matr[ií]cula`,
		`licen[cs]e|dl|plate|tag|serial|device|pacemaker|implant|pump|vehicle|registration`)
)

// keyWords are the first words of every keyword in the patterns above
// (lower case, possessive removed); patterns only run where one occurs.
var keyWords = set(`ssn ss social mrn mr medical health hospital acct account historia member
	membership policy insurance group plan certificate cert claim case record patient chart
	enrollment enrolment beneficiary subscriber medicaid medicare tricare reference ref license
	licence number registration driver drivers driving vin vehicle serial s device udi imei placa
	matrícula matricula dl plate tag pacemaker implant pump`)

const (
	notePhone   = "a telephone number"
	noteFax     = "a fax number"
	noteSSN     = "a Social Security number"
	noteRecord  = "a medical record, account, health plan or certificate number"
	noteLicense = "a licence, vehicle or device identifier"
	noteVIN     = "looks like a vehicle identification number (VIN)"
)

// keyedRe builds the pattern "keyword [marker] [:|is] VALUE" with the value
// in group 1. Weak keywords are ordinary words ("policy", "member"), so they
// only count when followed by a marker such as "number", "ID", "no." or ":".
func keyedRe(strong, weak string) *regexp.Regexp {
	marker := `(?:\s*(?:number|num\.?|no\.?|nr\.?|#|identifier|id|code))`
	return regexp.MustCompile(`(?i)\b(?:(?:` + strong + `)` + marker + `?|(?:` + weak + `)(?:` + marker + `|\s*:))` +
		`\s*(?:(?::|=|is|was|of)\s*)?#?\s*([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)`)
}

// scanIdentifiers finds SSNs, keyword-introduced record, plan, licence and
// device numbers, and free-standing VINs.
func (s *scanner) scanIdentifiers() {
	t := s.text
	for _, m := range s.findIn(reSSN, s.numeric()) {
		if numberBounded(t, m[0], m[1]) {
			s.add(KindSSN, m[0], m[1], noteSSN)
		}
	}
	keyed := s.wordWindows(keyWords, 0, 64)
	for _, m := range s.findIn(reSSNKeyed, keyed) {
		s.add(KindSSN, m[2], m[3], noteSSN)
	}
	s.keyed(reRecord, keyed, KindRecordNumber, noteRecord)
	s.keyed(reLicense, keyed, KindLicense, noteLicense)
	for _, m := range s.findIn(reVIN, s.tokenWindows(func(tok string) bool { return len(tok) >= 17 })) {
		if letters, digits := countAlnum(t[m[0]:m[1]]); letters >= 2 && digits >= 3 {
			s.add(KindLicense, m[0], m[1], noteVIN)
		}
	}
}

// keyed reports the value after a keyword when it looks like an identifier:
// at least four letters or digits, at least one digit.
func (s *scanner) keyed(re *regexp.Regexp, wins [][2]int, k Kind, note string) {
	for _, m := range s.findIn(re, wins) {
		v := s.text[m[2]:m[3]]
		letters, digits := countAlnum(v)
		if digits >= 1 && letters+digits >= 4 && len(v) <= 30 {
			s.add(k, m[2], m[3], note)
		}
	}
}

func countAlnum(v string) (letters, digits int) {
	for i := 0; i < len(v); i++ {
		switch {
		case isDigit(v[i]):
			digits++
		case isAlnum(v[i]):
			letters++
		}
	}
	return letters, digits
}

// scanPhones finds telephone numbers and labels those introduced by "fax"
// (the nearest phone word before the number decides) as fax numbers.
func (s *scanner) scanPhones() {
	t := s.text
	var spans [][2]int
	for _, m := range s.findIn(rePhoneUS, s.near()) {
		if numberBounded(t, m[0], m[1]) {
			spans = append(spans, [2]int{m[0], m[1]})
		}
	}
	for _, m := range s.findIn(rePhoneIntl, s.near()) {
		if end := intlPhoneEnd(t, m[0], m[1]); end > 0 && numberBounded(t, m[0], end) {
			spans = append(spans, [2]int{m[0], end})
		}
	}
	for _, m := range s.findIn(rePhoneBare, s.near()) {
		if numberBounded(t, m[0], m[1]) && rePhoneWord.MatchString(window(t, m[0], 24)) {
			spans = append(spans, [2]int{m[0], m[1]})
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return b[1] - a[1]
	})
	prevEnd := 0
	for _, sp := range spans {
		if sp[0] < prevEnd {
			continue
		}
		ctx := t[max(prevEnd, sp[0]-40):sp[0]]
		if lastIndex(reFaxWord, ctx) > lastIndex(reNonFaxWord, ctx) {
			s.add(KindFax, sp[0], sp[1], noteFax)
		} else {
			s.add(KindPhone, sp[0], sp[1], notePhone)
		}
		prevEnd = sp[1]
	}
}

// intlPhoneEnd trims trailing digit groups until the number has at most 15
// digits (the E.164 limit) and returns the new end, or 0 if fewer than 8
// digits remain.
func intlPhoneEnd(t string, start, end int) int {
	for {
		_, digits := countAlnum(t[start:end])
		if digits < 8 {
			return 0
		}
		if digits <= 15 {
			return end
		}
		i := end - 1
		for i > start && (isDigit(t[i]) || t[i] == ')') {
			i--
		}
		for i > start && (t[i] == ' ' || t[i] == '.' || t[i] == '-' || t[i] == '(') {
			i--
		}
		if i <= start {
			return 0
		}
		end = i + 1
	}
}

func lastIndex(re *regexp.Regexp, s string) int {
	ms := re.FindAllStringIndex(s, -1)
	if len(ms) == 0 {
		return -1
	}
	return ms[len(ms)-1][0]
}
