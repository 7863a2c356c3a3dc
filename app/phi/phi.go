// Package phi finds HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)) in
// patient-story text before the story goes to legal review.
//
// It is a heuristic scanner, not a de-identification guarantee: it prefers
// to show a reviewer a doubtful span rather than miss one, and every finding
// carries a plain-English note so that a communications editor, not only a
// privacy officer, can decide what to do with it.
package phi

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Kind is the Safe Harbor category of a finding. Reviewers and redaction
// tools treat categories differently (a staff name may be kept with consent,
// a record number never), so the category travels with every finding. The
// values are stable strings, safe to store.
type Kind string

const (
	// KindName is a person's name other than the patient's: relatives,
	// employers and household members are identifiers too.
	KindName Kind = "name"
	// KindDate is any date element more specific than the year.
	KindDate Kind = "date"
	// KindAge is an age over 89, which Safe Harbor treats as identifying.
	KindAge Kind = "age"
	// KindPhone is a telephone number.
	KindPhone Kind = "phone"
	// KindFax is a telephone number introduced as a fax number; Safe Harbor
	// lists fax numbers separately.
	KindFax Kind = "fax"
	// KindEmail is an email address.
	KindEmail Kind = "email"
	// KindSSN is a Social Security number.
	KindSSN Kind = "ssn"
	// KindRecordNumber covers medical record, account, health plan
	// beneficiary and certificate numbers: numbers that point at the
	// patient's files rather than at a thing they own.
	KindRecordNumber Kind = "record_number"
	// KindURL is a web address, which can lead straight to the person.
	KindURL Kind = "url"
	// KindIP is an IPv4 or IPv6 address.
	KindIP Kind = "ip"
	// KindAddress is a street address or post-office box.
	KindAddress Kind = "address"
	// KindZIP is a ZIP (or postal) code.
	KindZIP Kind = "zip"
	// KindLicense covers licence, vehicle (plate, VIN) and device
	// (serial number, device ID) identifiers.
	KindLicense Kind = "license"
	// KindPatientName is one of the names the caller said belong to the
	// patient; it is reported separately because consent for the patient's
	// own name is handled differently from everyone else's.
	KindPatientName Kind = "patient_name"
)

var labels = map[Kind]string{
	KindName:         "Person's name",
	KindDate:         "Date",
	KindAge:          "Age over 89",
	KindPhone:        "Phone number",
	KindFax:          "Fax number",
	KindEmail:        "Email address",
	KindSSN:          "Social Security number",
	KindRecordNumber: "Record or account number",
	KindURL:          "Web address",
	KindIP:           "IP address",
	KindAddress:      "Street address",
	KindZIP:          "ZIP code",
	KindLicense:      "Licence, vehicle or device ID",
	KindPatientName:  "Patient's name",
}

// Label returns the reviewer-facing name of the category, so that user
// interfaces do not each invent their own wording. Unknown kinds are shown
// as their raw value rather than hidden.
func (k Kind) Label() string {
	if l, ok := labels[k]; ok {
		return l
	}
	return string(k)
}

// Finding is one span of text that looks like an identifier. Offsets are
// byte offsets into the scanned string so that callers can highlight or
// redact without re-searching, even in accented text.
type Finding struct {
	Kind  Kind
	Start int    // byte offset in the scanned text, inclusive
	End   int    // byte offset, exclusive
	Text  string // text[Start:End]
	Note  string // short plain-English explanation for the reviewer
}

// Options carries what the scanner cannot guess from the text alone.
type Options struct {
	// PatientNames are the patient's own names (full and preferred). Every
	// whole-word, case- and accent-insensitive occurrence of a full name or
	// of any part of two or more letters is reported as KindPatientName.
	PatientNames []string
	// AllowNames are staff, hospital and place names that editors have
	// already cleared; they are never reported as KindName.
	AllowNames []string
}

// priority decides overlaps: the most specific reading of a span wins, so
// an email address is not also reported as a web address or a name.
var priority = map[Kind]int{
	KindEmail:        100,
	KindURL:          90,
	KindIP:           85,
	KindSSN:          80,
	KindRecordNumber: 75,
	KindLicense:      75,
	KindFax:          70,
	KindPhone:        65,
	KindAddress:      60,
	KindAge:          55,
	KindDate:         55,
	KindZIP:          50,
	KindPatientName:  40,
	KindName:         30,
}

// Scan reports every identifier it can find in text, sorted by Start, with
// no two findings overlapping. It never modifies text and is safe for
// concurrent use.
func Scan(text string, opts Options) []Finding {
	return scan(text, opts, false)
}

// scan is Scan; whole makes every pattern run over the whole text instead of
// the windows of windows.go, which tests use to show windows change nothing.
func scan(text string, opts Options, whole bool) []Finding {
	s := &scanner{text: text, whole: whole}
	s.scanWeb()
	s.scanIdentifiers()
	s.scanPhones()
	s.scanAddresses()
	s.scanZIPs() // needs the addresses found above
	s.scanDates()
	s.scanAges()
	s.scanPatientNames(opts.PatientNames)
	s.scanNames(opts.AllowNames)
	return s.resolve()
}

// scanner collects candidate findings; overlaps are settled in resolve.
type scanner struct {
	text  string
	found []Finding
	wins  map[[2]int][][2]int // digit windows by size, see windows.go
	toks  []token
	whole bool
}

func (s *scanner) add(k Kind, start, end int, note string) {
	if start < 0 || end > len(s.text) || start >= end {
		return
	}
	s.found = append(s.found, Finding{Kind: k, Start: start, End: end, Note: note})
}

// resolve keeps, for every overlapping group, the candidate with the highest
// priority (then the longest, then the earliest) and returns them in order.
func (s *scanner) resolve() []Finding {
	c := s.found
	mergePatientNames(c)
	slices.SortStableFunc(c, func(a, b Finding) int {
		if pa, pb := priority[a.Kind], priority[b.Kind]; pa != pb {
			return pb - pa
		}
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return lb - la
		}
		return a.Start - b.Start
	})
	var out []Finding
	for _, f := range c {
		// out is sorted and non-overlapping, so End is sorted too.
		i, _ := slices.BinarySearchFunc(out, f.Start, func(o Finding, start int) int {
			if o.End <= start {
				return -1
			}
			return 1
		})
		if i < len(out) && out[i].Start < f.End {
			continue
		}
		f.Text = s.text[f.Start:f.End]
		out = slices.Insert(out, i, f)
	}
	return out
}

// mergePatientNames turns a heuristic name that overlaps a patient-name hit
// into a patient-name finding covering both, so "Maria Elena Lopez" is one
// patient finding when only "Maria Lopez" was given.
func mergePatientNames(c []Finding) {
	for i := range c {
		if c[i].Kind != KindName {
			continue
		}
		for _, p := range c {
			if p.Kind == KindPatientName && p.Start < c[i].End && c[i].Start < p.End {
				c[i].Kind = KindPatientName
				c[i].Start = min(c[i].Start, p.Start)
				c[i].End = max(c[i].End, p.End)
				c[i].Note = notePatient
			}
		}
	}
}

// isWordRune reports whether r can be part of a word for whole-word checks.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnum(byte(r)) || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_'
}

// wordBounded reports whether text[start:end] is not glued to letters or
// digits on either side. Unlike regexp's \b it understands accented letters.
func wordBounded(text string, start, end int) bool {
	if start > 0 {
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); isWordRune(r) {
			return false
		}
	}
	if end < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[end:]); isWordRune(r) {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isAlnum(b byte) bool {
	return isDigit(b) || (b|0x20 >= 'a' && b|0x20 <= 'z')
}

// numberBounded reports whether text[start:end] is a whole number-like
// token: not part of a longer run of digits, letters, or digit groups joined
// by "-", "." or "/".
func numberBounded(text string, start, end int) bool {
	if start > 0 {
		b := text[start-1]
		if isAlnum(b) || b == '_' || b == '@' {
			return false
		}
		if (b == '-' || b == '.' || b == '/' || b == ':') && start > 1 && isDigit(text[start-2]) {
			return false
		}
	}
	if end < len(text) {
		b := text[end]
		if isAlnum(b) || b == '_' {
			return false
		}
		if (b == '-' || b == '.' || b == '/' || b == ':') && end+1 < len(text) && isDigit(text[end+1]) {
			return false
		}
	}
	return true
}

// window returns up to n bytes of text before pos (possibly starting in the
// middle of a rune, which the regexps used on it tolerate).
func window(text string, pos, n int) string {
	return text[max(0, pos-n):pos]
}
