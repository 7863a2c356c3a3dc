package markdown

import (
	"strings"
	"testing"
)

func TestRenderStripsDangerousMarkup(t *testing.T) {
	for _, src := range []string{
		"Hello <script>alert(1)</script> world",
		"[click](javascript:alert(1))",
		"[click](JaVaScRiPt:alert(1))",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<img src=x onerror=alert(1)>",
		"![x](javascript:alert(1))",
		"<iframe src=\"https://evil.example\"></iframe>",
	} {
		out := strings.ToLower(string(Render(src)))
		for _, bad := range []string{"<script", "javascript:", "onerror", "<iframe"} {
			if strings.Contains(out, bad) {
				t.Errorf("Render(%q) = %q contains %q", src, out, bad)
			}
		}
	}
	got := string(Render("# Title\n\nSome **bold** [link](https://example.org)."))
	for _, want := range []string{"<h1", "<strong>bold</strong>", `href="https://example.org"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
}
