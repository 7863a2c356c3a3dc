package consent

import (
	"encoding/json"
	"testing"
)

// FuzzDigestCanonical checks the consent digest's canonical form on any text
// staff or patients can type: the canonical bytes are valid JSON, read back
// by ParseFrozen to the same content, and digest to the same value again, so
// anyone recomputing the digest from the stored or attached JSON gets the
// signed one (docs/consent-digest.md).
func FuzzDigestCanonical(f *testing.F) {
	f.Add("Rosa walks 🌷", "Summary.", "Body with \"quotes\", \\ and \u2028 and <b>html</b>", "x", "Alt \t text", "Caption\n", 500, 500)
	f.Add("", "", "", "", "", "", 0, 1000)
	f.Add("\x00\x1f\x7f", "\xff\xfe", "e\u0301 vs \u00e9", "mastodon", "ﷺ", "مرحبا", -1, 99999)
	f.Fuzz(func(t *testing.T, title, summary, body, copyText, alt, caption string, fx, fy int) {
		in := Frozen{StoryID: "s1", Title: title, Summary: summary, Body: body, NameUsage: "first_name",
			Channels:   []ChannelCopy{{Channel: "x", Text: copyText}, {Channel: "website", Text: body}},
			Media:      []MediaRef{{ID: "m1", SHA256: "ab", AltText: alt, Caption: caption, FocalX: fx, FocalY: fy}},
			TemplateID: "t1", TemplateVersion: 2, TemplateTextSHA256: "cd"}
		canonical, sum := Digest(in)
		if !json.Valid(canonical) {
			t.Fatalf("canonical form is not JSON: %q", canonical)
		}
		back, err := ParseFrozen(string(canonical))
		if err != nil {
			t.Fatalf("ParseFrozen(canonical): %v", err)
		}
		again, sum2 := Digest(back)
		if sum2 != sum || string(again) != string(canonical) {
			t.Fatalf("digest not stable across a round trip:\n%s\n%s", canonical, again)
		}
	})
}
