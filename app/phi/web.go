package phi

import (
	"net/netip"
	"regexp"
	"strings"
)

var (
	reEmail = regexp.MustCompile(`(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}\b`)
	// reURL finds addresses with a scheme or a "www." prefix.
	reURL = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'` + "`" + `]+`)
	// reDomain finds bare domains; the TLD list is short on purpose so that
	// abbreviations and missing spaces after full stops are not reported.
	reDomain = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|org|net|edu|gov|mil|io|info|biz|health|care|app|co|uk|ca|au|mx|es)\b(?:[/?#][^\s<>"'` + "`" + `]*)?`)
	reIPv4   = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	reIPv6   = regexp.MustCompile(`(?i)(?:[0-9a-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?`)
)

const (
	noteEmail = "an email address"
	noteURL   = "a web address, which can lead to the person"
	noteIP    = "an IP address"
)

// scanWeb finds email addresses, web addresses and IP addresses.
func (s *scanner) scanWeb() {
	t := s.text
	at := s.tokenWindows(func(tok string) bool { return strings.IndexByte(tok, '@') >= 0 })
	for _, m := range s.findIn(reEmail, at) {
		if m[0] > 0 && (t[m[0]-1] == '.' || t[m[0]-1] == '-') {
			continue
		}
		s.add(KindEmail, m[0], m[1], noteEmail)
	}
	for _, m := range s.findIn(reURL, s.tokenWindows(looksLikeURL)) {
		s.add(KindURL, m[0], m[0]+trimURL(t[m[0]:m[1]]), noteURL)
	}
	for _, m := range s.findIn(reDomain, s.tokenWindows(hasASCIILetterAfterDot)) {
		if m[0] > 0 && strings.ContainsRune("@./-", rune(t[m[0]-1])) {
			continue
		}
		end := m[0] + trimURL(t[m[0]:m[1]])
		if end < len(t) && (t[end] == '-' || t[end] == '@') {
			continue
		}
		s.add(KindURL, m[0], end, noteURL)
	}
	for _, m := range s.findIn(reIPv4, s.numeric()) {
		if !numberBounded(t, m[0], m[1]) {
			continue
		}
		if _, err := netip.ParseAddr(t[m[0]:m[1]]); err == nil {
			s.add(KindIP, m[0], m[1], noteIP)
		}
	}
	colons := s.tokenWindows(func(tok string) bool { return strings.Count(tok, ":") >= 2 })
	for _, m := range s.findIn(reIPv6, colons) {
		if s.isIPv6(m[0], m[1]) {
			s.add(KindIP, m[0], m[1], noteIP)
		}
	}
}

// isIPv6 rejects clock times, "::" in prose and words that merely end in
// hex letters; netip does the real validation.
func (s *scanner) isIPv6(start, end int) bool {
	t := s.text
	if start > 0 && (isAlnum(t[start-1]) || t[start-1] == ':' || t[start-1] == '.') {
		return false
	}
	if end < len(t) && (isAlnum(t[end]) || t[end] == ':') {
		return false
	}
	v := t[start:end]
	hex := 0
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			hex++
		}
	}
	if hex < 4 {
		return false
	}
	a, err := netip.ParseAddr(v)
	return err == nil && a.Is6()
}

// trimURL drops sentence punctuation that the greedy patterns swallow and
// returns the kept length.
func trimURL(u string) int {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"]}*", c) >= 0:
			u = u[:len(u)-1]
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return len(u)
		}
	}
	return 0
}
