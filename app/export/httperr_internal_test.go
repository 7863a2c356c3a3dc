package export

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestF16ErrorExcerptShortAndPlain: what staff see of a network's error
// answer is short and carries no markup.
func TestF16ErrorExcerptShortAndPlain(t *testing.T) {
	body := "<html><head><title>Bad</title><script>alert(1)</script></head><body><h1>INTERNAL-ONLY-SECRET</h1>\n\t<p>aws_key=AKIA" + strings.Repeat("x", 3000) + "</p></body></html>"
	res := &http.Response{StatusCode: http.StatusBadRequest, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
	msg := checkResponse(res, "webhook").Error()
	if strings.ContainsAny(msg, "<>\n\t") || len([]rune(msg)) > 260 {
		t.Fatalf("excerpt %q (%d runes)", msg, len([]rune(msg)))
	}
	if !strings.Contains(msg, "HTTP 400") {
		t.Fatalf("excerpt lost the status: %q", msg)
	}
}
