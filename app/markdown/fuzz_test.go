package markdown

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var (
	eventAttr = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	imgSrc    = regexp.MustCompile(`<img[^>]*\ssrc="([^"]*)"`)
	urlAttr   = regexp.MustCompile(`\s(?:href|src)="([^"]*)"`)
)

// FuzzRender: whatever the Markdown, the output carries no script, no event
// handler, no javascript: URL and no image from another host (F21), and
// rendering never panics.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"# Title\n\nSome **bold** [link](https://example.org).",
		"![px](http://evil.example/track.png)", "![ok](/p/x/a.jpg)", "<script>alert(1)</script>",
		"[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", "![x][r]\n\n[r]: //evil.example/a.png",
		"| a | b |\n|---|---|\n| <b>c</b> | ![d](//e.example/f) |", "<https://evil.example>", "www.evil.example",
		"[a](<java\nscript:alert(1)>)", "![a](/\\evil.example/x.png)", "~~del~~ - [ ] task",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := string(Render(src))
		low := strings.ToLower(out)
		if strings.Contains(low, "<script") || strings.Contains(low, "<iframe") || eventAttr.MatchString(out) {
			t.Fatalf("Render(%q) = %q is unsafe", src, out)
		}
		for _, m := range urlAttr.FindAllStringSubmatch(out, -1) {
			u := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, html.UnescapeString(m[1])))
			if strings.HasPrefix(u, "javascript:") || strings.HasPrefix(u, "vbscript:") || strings.HasPrefix(u, "data:") {
				t.Fatalf("Render(%q) = %q has a script URL", src, out)
			}
		}
		for _, m := range imgSrc.FindAllStringSubmatch(out, -1) {
			if !localURL.MatchString(m[1]) {
				t.Fatalf("Render(%q) = %q loads a remote image %q", src, out, m[1])
			}
		}
	})
}
