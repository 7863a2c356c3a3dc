package export

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/storykeep/storykeep/app/jobs"
)

// checkResponse turns a network's answer into the queue's language: 2xx is
// nil; 404/410 is ErrGone; 408, 429 and 5xx retry (429 no sooner than the
// network asks, from Retry-After, X-RateLimit-Reset (Mastodon, a time) or
// RateLimit-Reset (Bluesky, Unix seconds)); any other 4xx is permanent,
// since sending the same request again cannot succeed.
func checkResponse(res *http.Response, what string) error {
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
	err := fmt.Errorf("%s: HTTP %d: %s", what, res.StatusCode, excerpt(body))
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return fmt.Errorf("%w (%v)", ErrGone, err)
	case res.StatusCode == http.StatusTooManyRequests:
		if d, ok := retryAfter(res.Header, time.Now()); ok {
			return &jobs.RetryAfterError{Err: err, After: d}
		}
		return err
	case res.StatusCode == http.StatusRequestTimeout || res.StatusCode >= 500:
		return err
	}
	return jobs.Permanent(err)
}

// retryAfter reads how long the network wants us to wait.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return time.Duration(n) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, t.Sub(now)), true
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return max(0, t.Sub(now)), true
		}
	}
	if v := h.Get("RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return max(0, time.Unix(n, 0).Sub(now)), true
		}
	}
	return 0, false
}

// isGone reports a 404/410 answer.
func isGone(err error) bool { return errors.Is(err, ErrGone) }

// maxExcerpt is how much of a network's error answer is kept: staff see it
// on the publish panel and the jobs page (F16), so it is short and plain.
const maxExcerpt = 160

var (
	tags   = regexp.MustCompile(`(?s)<[^>]*>?`)
	spaces = regexp.MustCompile(`\s+`)
)

// excerpt is the start of an error body as plain text: markup removed,
// control characters and runs of space collapsed, cut at maxExcerpt runes.
func excerpt(body []byte) string {
	s := strings.ToValidUTF8(string(body), "")
	s = tags.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '<' || r == '>' {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if r := []rune(s); len(r) > maxExcerpt {
		s = string(r[:maxExcerpt]) + "…"
	}
	return s
}
