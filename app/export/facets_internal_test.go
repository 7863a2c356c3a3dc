package export

import "testing"

// Finding (real servers §8): link facets included trailing punctuation.
func TestF8LinkFacetsStopBeforeTrailingPunctuation(t *testing.T) {
	for text, want := range map[string]string{
		"details at https://example.org/maría. Read more": "https://example.org/maría",
		"(see https://example.org/a_(b)) now":             "https://example.org/a_(b)",
		"(see https://example.org/story), then":           "https://example.org/story",
		"wow https://example.org/x?y=1!":                  "https://example.org/x?y=1",
		"https://example.org/s/Eqz583hJ":                  "https://example.org/s/Eqz583hJ",
		`"quoted https://example.org/q"; done`:            "https://example.org/q",
	} {
		fs := linkFacets(text)
		if len(fs) != 1 || fs[0].URI != want || text[fs[0].ByteStart:fs[0].ByteEnd] != want {
			t.Errorf("%q: facets %+v, want %q", text, fs, want)
		}
	}
}
