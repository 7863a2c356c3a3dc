package disclosure

import (
	"strings"
	"testing"

	"github.com/storykeep/storykeep/models"
)

func photoIn(id string) PhotoInput {
	return PhotoInput{Asset: models.MediaAsset{ID: id, Kind: "image", AltText: "Maria Lopez smiling", Caption: "Lopez's garden"},
		Renditions: []models.MediaRendition{{AssetID: id, Name: "x"}, {AssetID: id, Name: "instagram-portrait"}, {AssetID: id, Name: "opengraph"}}}
}

func baseInput(usage string) Input {
	return Input{
		Story:   models.Story{ID: "s1", Title: "Maria Lopez walks", Summary: "M&#97;ria L&#111;pez learned to walk.", Body: "**Ma**ria Lo\u00adpez walks.", ChannelCopy: `{"x":"Maria Lopez is back!"}`},
		Patient: models.Patient{FullName: "Maria Lopez"},
		Photos:  []PhotoInput{photoIn("a1"), photoIn("a2")},
		Choices: Choices{NameUsage: usage, Allowed: []string{Website, "x", "instagram"}, Refused: map[string]string{},
			Media: map[string][]string{Website: {"a1"}, "x": {"a1"}, "instagram": nil}},
		Publication: &models.WebsitePublication{StoryID: "s1", Slug: "walks"},
		Approval:    &models.StoryApproval{ID: "ap1", StoryID: "s1"},
		PublicURL:   "https://h.example",
		Rules:       map[string]ChannelRule{"x": {Rendition: "x", MaxMedia: 4}, "instagram": {Rendition: "instagram-portrait", MaxMedia: 10, NeedsPhoto: true}},
	}
}

// Build keeps only the chosen photos per exit, drops a declined one from
// a post without refusing it, refuses a channel that needs a photo and has
// none left, and rewrites every field for the usage.
func TestBuildChoicesPerExit(t *testing.T) {
	d, err := Build(baseInput(NameAnonymous))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Page.Photos) != 1 || d.Page.Photos[0].AssetID != "a1" {
		t.Fatalf("page photos %+v", d.Page.Photos)
	}
	x := d.Posts["x"]
	if x == nil || len(x.Photos) != 1 || len(x.Dropped) != 1 || x.Dropped[0] != "a2" {
		t.Fatalf("x post %+v", x)
	}
	if x.Copy != "The patient is back!" || x.Title != "The patient walks" || x.Photos[0].Alt != "The patient smiling" || x.Photos[0].Caption != "The patient's garden" {
		t.Fatalf("x post text %+v", x)
	}
	if !strings.Contains(d.Refused["instagram"], "needs a photo") || d.Posts["instagram"] != nil {
		t.Fatalf("instagram: %q", d.Refused["instagram"])
	}
	if d.Page.Summary != "The patient learned to walk." || strings.Contains(string(d.Page.Body), "ria") {
		t.Fatalf("page %q %q", d.Page.Summary, d.Page.Body)
	}
	if got := d.Page.ShortLinkTarget("x"); got != "/p/walks?utm_campaign=storykeep&utm_medium=social&utm_source=x" {
		t.Fatalf("short link target %s", got)
	}
}

// A name Build cannot rewrite fails the page with the field named, and
// refuses the post with the field named.
func TestBuildFailsClosed(t *testing.T) {
	in := baseInput(NameFirst)
	in.Story.Body = "See [us](https://example.org/lopez)."
	in.Story.ChannelCopy = `{"x":"See https://example.org/lopez"}`
	_, err := Build(in)
	var leak *LeakError
	if !asLeak(err, &leak) || leak.Field != "body" {
		t.Fatalf("page: %v", err)
	}
	in.Publication = nil
	d, err := Build(in)
	if err != nil || !strings.Contains(d.Refused["x"], "post text") {
		t.Fatalf("x: %v %q", err, d.Refused["x"])
	}
}

func asLeak(err error, l **LeakError) bool {
	e, ok := err.(*LeakError)
	*l = e
	return ok
}
