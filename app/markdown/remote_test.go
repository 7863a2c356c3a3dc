package markdown

import (
	"strings"
	"testing"
)

// TestF21NoRemoteImages: no way of writing an image in Markdown makes the
// output load something from another host; local images stay.
func TestF21NoRemoteImages(t *testing.T) {
	for _, src := range []string{
		"![px](http://evil.example/track.png)",
		"![px](HTTPS://evil.example/track.png \"title\")",
		"![px](//evil.example/track.png)",
		"![px](/\\evil.example/track.png)",
		"![px][r]\n\n[r]: https://evil.example/track.png",
		"[![px](https://evil.example/track.png)](https://evil.example)",
		"<img src=\"https://evil.example/track.png\">",
		"![px](data:image/png;base64,iVBORw0KGgo=)",
		"![px](evil.example/track.png)",
	} {
		out := string(Render(src))
		if strings.Contains(out, "<img") || strings.Contains(out, "evil.example/track") {
			t.Errorf("Render(%q) = %q loads a remote image", src, out)
		}
	}
	if out := string(Render("![Maria in the garden](/p/walks/img/a/x.jpg)")); !strings.Contains(out, `<img src="/p/walks/img/a/x.jpg" alt="Maria in the garden">`) {
		t.Errorf("a local image was lost: %q", out)
	}
	if out := string(Render("![Maria waving](https://evil.example/a.png)")); !strings.Contains(out, "Maria waving") {
		t.Errorf("a remote image's alt text was lost: %q", out)
	}
}

// TestF21RemoteLinksNoFollowNoOpener: links to other sites, however written,
// get rel="nofollow noopener"; links on this site stay nofollow only.
func TestF21RemoteLinksNoFollowNoOpener(t *testing.T) {
	for _, src := range []string{"[a](https://evil.example/x?a=1&b=2)", "<https://evil.example>", "www.evil.example", "[a][r]\n\n[r]: //evil.example", "[mail](mailto:a@b.example)"} {
		out := string(Render(src))
		if !strings.Contains(out, `rel="nofollow noopener"`) || strings.Count(out, "<a ") != 1 {
			t.Errorf("Render(%q) = %q", src, out)
		}
	}
	if out := string(Render("[story](/p/walks-again)")); !strings.Contains(out, `<a href="/p/walks-again" rel="nofollow">`) {
		t.Errorf("local link: %q", out)
	}
}
