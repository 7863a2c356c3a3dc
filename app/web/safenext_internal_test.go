package web

import (
	"net/url"
	"testing"
)

// TestF6OpenRedirectCorpus: every hostile next value falls back to "/", and
// browsers resolving what is kept against this site stay on it.
func TestF6OpenRedirectCorpus(t *testing.T) {
	hostile := []string{
		"/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "\t//evil.example", "/ /evil.example",
		"//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
		"/%09/evil.example", "/%2f/evil.example", "/%2F%2Fevil.example", "/%5cevil.example", "/%5C%5Cevil.example", "/%0a/evil.example",
		"https://evil.example", "http:evil.example", "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>", "evil.example", "", "//", "/\x00/evil.example", "/\x7f/evil.example",
		"/\u2215\u2215evil.example", "/\uff0f/evil.example", "\uff0f\uff0fevil.example", "/\u3002evil.example",
		"/%E2%88%95%E2%88%95evil.example", "%2F%2Fevil.example", "/\u00a0/evil.example",
		"https:/\\evil.example", "/.\\evil.example",
	}
	for _, h := range hostile {
		if got := safeNext(h); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", h, got)
		}
	}
	base, _ := url.Parse("https://stories.hospital.test/login")
	kept := []string{"/", "/stories", "/stories/abc?page=2&q=mar%C3%ADa", "/patients/1#notes", "/@evil.example", "/stories/a/media"}
	for _, k := range kept {
		got := safeNext(k)
		if got != k {
			t.Errorf("safeNext(%q) = %q, want it kept", k, got)
		}
		if u, err := base.Parse(got); err != nil || u.Host != base.Host {
			t.Errorf("safeNext(%q) leads to host %v (%v)", k, u, err)
		}
	}
}
