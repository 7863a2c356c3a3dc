package consent

import (
	"strings"
	"unicode"
)

// Quote turns a value staff or a patient typed (a story title, a name, alt
// text, a caption) into Markdown that prints as exactly that text and
// nothing else, so it can sit inside the authorization form without adding,
// hiding or reordering any of the form's elements (finding F7):
//
//   - every run of white space, line and paragraph separators and control
//     characters becomes one space: a value cannot start a new line, so it
//     cannot open a heading, list, code block or HTML block;
//   - Markdown and HTML punctuation (\ ` * _ [ ] < > # ! | ~ & { }) is
//     backslash-escaped, so there is no emphasis, link, image, raw HTML or
//     entity;
//   - ':' and '@', and the '.' after "www", are escaped so the GFM linkifier
//     finds no URL or email address to turn into a link;
//   - a leading '-', '+', '=' or "1." / "1)" is escaped so the value cannot
//     become a list item or a setext underline where a template puts it at
//     the start of a line.
//
// CommonMark renders a backslash-escaped ASCII punctuation character as the
// character itself, so the patient reads the value as typed.
func Quote(s string) string {
	s = canon(s)
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}), " ")
	var b strings.Builder
	b.Grow(len(s) + 8)
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case strings.ContainsRune("\\`*_[]<>#!|~&{}:@", r):
			b.WriteByte('\\')
		case r == '.' && i >= 3 && strings.EqualFold(string(rs[i-3:i]), "www"):
			b.WriteByte('\\')
		case i == 0 && (r == '-' || r == '+' || r == '='):
			b.WriteByte('\\')
		case (r == '.' || r == ')') && i > 0 && allDigits(rs[:i]):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func allDigits(rs []rune) bool {
	for _, r := range rs {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(rs) > 0
}

// quoted returns d with every value quoted for Markdown (see Quote).
func (d FormData) quoted() FormData {
	q := FormData{OrganisationName: Quote(d.OrganisationName), PatientName: Quote(d.PatientName), StoryTitle: Quote(d.StoryTitle),
		NameUsage: Quote(d.NameUsage), ExpiresOn: Quote(d.ExpiresOn), RevokeURL: Quote(d.RevokeURL), Representative: Quote(d.Representative),
		OrganisationLegalName: Quote(d.OrganisationLegalName), OrganisationAddress: Quote(d.OrganisationAddress), OrganisationPhone: Quote(d.OrganisationPhone),
		PrivacyEmail: Quote(d.PrivacyEmail), Remuneration: Quote(d.Remuneration), Sponsored: d.Sponsored}
	for _, c := range d.Channels {
		q.Channels = append(q.Channels, Quote(c))
	}
	for _, m := range d.MediaList {
		q.MediaList = append(q.MediaList, Quote(m))
	}
	return q
}
