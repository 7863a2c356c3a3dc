package consent

import (
	"bytes"
	"encoding/json"
	"testing"
)

// goldenFrozen is the test vector published in docs/consent-digest.md.
func goldenFrozen() Frozen {
	return Frozen{
		Format:   DigestFormatV1,
		StoryID:  "0190a5c4-7d1e-7a3b-9c2d-4e5f60718293",
		Title:    "María’s recovery — “I walked again”",
		Summary:  "After surgery, María learned to walk again.",
		Body:     "Line one.\r\nLine two with ñ and ü.",
		Channels: []ChannelCopy{{Channel: "website", Text: ""}, {Channel: "facebook", Text: "María walks again! https://example.org/s/1"}},
		Media: []MediaRef{
			{ID: "m2", SHA256: "bb" + repeat("0", 62), AltText: "María in the garden"},
			{ID: "m1", SHA256: "aa" + repeat("0", 62), AltText: "Physiotherapy session"},
		},
		NameUsage:          "first_name",
		TemplateID:         "0190a5c4-0000-7000-8000-000000000001",
		TemplateVersion:    3,
		TemplateTextSHA256: "cc" + repeat("0", 62),
	}
}

func repeat(s string, n int) string { return string(bytes.Repeat([]byte(s), n)) }

const (
	goldenCanonical = `{"body":"Line one.\nLine two with ñ and ü.","channels":[{"channel":"facebook","text":"María walks again! https://example.org/s/1"},{"channel":"website","text":""}],"format":"storykeep-consent-digest/1","media":[{"alt_text":"Physiotherapy session","id":"m1","sha256":"aa00000000000000000000000000000000000000000000000000000000000000"},{"alt_text":"María in the garden","id":"m2","sha256":"bb00000000000000000000000000000000000000000000000000000000000000"}],"name_usage":"first_name","story_id":"0190a5c4-7d1e-7a3b-9c2d-4e5f60718293","summary":"After surgery, María learned to walk again.","template_id":"0190a5c4-0000-7000-8000-000000000001","template_text_sha256":"cc00000000000000000000000000000000000000000000000000000000000000","template_version":3,"title":"María’s recovery — “I walked again”"}`
	goldenDigest    = "01b5e8198c6095f8908350378eae4e6a73619d450a11d59a083445420c16c36f"
)

func TestDigestGoldenVector(t *testing.T) {
	canonical, sum := Digest(goldenFrozen())
	if string(canonical) != goldenCanonical {
		t.Errorf("canonical form changed:\n got %s\nwant %s", canonical, goldenCanonical)
	}
	if sum != goldenDigest {
		t.Errorf("digest = %s, want %s", sum, goldenDigest)
	}
}

// TestDigestIsJCS checks the hand-written encoder against a generic one: the
// canonical bytes must survive a decode and a sorted-key re-encode unchanged.
func TestDigestIsJCS(t *testing.T) {
	canonical, _ := Digest(goldenFrozen())
	var v any
	if err := json.Unmarshal(canonical, &v); err != nil {
		t.Fatalf("canonical form is not JSON: %v", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if got := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, canonical) {
		t.Errorf("not in sorted-key canonical JSON:\n got %s\nwant %s", canonical, got)
	}
}

func TestDigestIgnoresOrderAndEncoding(t *testing.T) {
	base := goldenFrozen()
	_, want := Digest(base)
	tests := []struct {
		name   string
		change func(f *Frozen)
	}{
		{"channels reversed", func(f *Frozen) { f.Channels[0], f.Channels[1] = f.Channels[1], f.Channels[0] }},
		{"media reversed", func(f *Frozen) { f.Media[0], f.Media[1] = f.Media[1], f.Media[0] }},
		{"LF instead of CRLF", func(f *Frozen) { f.Body = "Line one.\nLine two with ñ and ü." }},
		{"lone CR", func(f *Frozen) { f.Body = "Line one.\rLine two with ñ and ü." }},
		{"NFD title", func(f *Frozen) { f.Title = "Mari\u0301a’s recovery — “I walked again”" }},
		{"NFD body", func(f *Frozen) { f.Body = "Line one.\r\nLine two with n\u0303 and u\u0308." }},
		{"NFD alt text", func(f *Frozen) { f.Media[0].AltText = "Mari\u0301a in the garden" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := goldenFrozen()
			tt.change(&f)
			if _, got := Digest(f); got != want {
				t.Errorf("digest changed: %s != %s", got, want)
			}
		})
	}
}

func TestDigestChangesWithEveryField(t *testing.T) {
	_, base := Digest(goldenFrozen())
	tests := []struct {
		name   string
		change func(f *Frozen)
	}{
		{"story id", func(f *Frozen) { f.StoryID += "x" }},
		{"title", func(f *Frozen) { f.Title += " " }},
		{"summary", func(f *Frozen) { f.Summary = "" }},
		{"body", func(f *Frozen) { f.Body += "\n" }},
		{"channel added", func(f *Frozen) { f.Channels = append(f.Channels, ChannelCopy{Channel: "x", Text: "hi"}) }},
		{"channel removed", func(f *Frozen) { f.Channels = f.Channels[:1] }},
		{"channel renamed", func(f *Frozen) { f.Channels[0].Channel = "mastodon" }},
		{"channel text", func(f *Frozen) { f.Channels[1].Text = "María walks again!" }},
		{"text moved between channels", func(f *Frozen) {
			f.Channels[0].Text, f.Channels[1].Text = f.Channels[1].Text, f.Channels[0].Text
		}},
		{"media added", func(f *Frozen) { f.Media = append(f.Media, MediaRef{ID: "m3"}) }},
		{"media removed", func(f *Frozen) { f.Media = f.Media[1:] }},
		{"media id", func(f *Frozen) { f.Media[0].ID = "m9" }},
		{"media hash", func(f *Frozen) { f.Media[0].SHA256 = "cc" + repeat("0", 62) }},
		{"media alt text", func(f *Frozen) { f.Media[1].AltText = "Physio session" }},
		{"name usage", func(f *Frozen) { f.NameUsage = "full" }},
		{"template id", func(f *Frozen) { f.TemplateID = "other" }},
		{"template version", func(f *Frozen) { f.TemplateVersion = 4 }},
		{"template text hash", func(f *Frozen) { f.TemplateTextSHA256 = "dd" + repeat("0", 62) }},
		{"value moved between fields", func(f *Frozen) { f.Title, f.Summary = f.Summary, f.Title }},
		{"quote in body", func(f *Frozen) { f.Body += `"` }},
	}
	seen := map[string]string{base: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := goldenFrozen()
			tt.change(&f)
			_, got := Digest(f)
			if prev, dup := seen[got]; dup {
				t.Errorf("digest same as %q", prev)
			}
			seen[got] = tt.name
		})
	}
}

func TestDigestNilAndEmptyListsAgree(t *testing.T) {
	a, _ := Digest(Frozen{})
	b, _ := Digest(Frozen{Channels: []ChannelCopy{}, Media: []MediaRef{}})
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte(`"channels":[]`)) {
		t.Errorf("empty lists: %s vs %s", a, b)
	}
}

func TestDigestEscapesControlCharacters(t *testing.T) {
	canonical, _ := Digest(Frozen{Title: "a\"b\\c\td\x01e\x7f\u2028"})
	want := `"title":"a\"b\\c\td\u0001e` + "\x7f\u2028" + `"`
	if !bytes.Contains(canonical, []byte(want)) {
		t.Errorf("got %s, want it to contain %s", canonical, want)
	}
}
