package media

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
)

// secretTags are what finding F20's upload carried: a GPS position and a
// title naming the patient, in the container and in each stream.
var secretTags = []string{"-metadata", "location=+40.7128-074.0060/", "-metadata", "location-eng=+40.7128-074.0060/",
	"-metadata", "title=Maria secret", "-metadata", "artist=Maria secret", "-metadata", "comment=Maria secret",
	"-metadata", "creation_time=2026-01-02T03:04:05Z",
	"-metadata:s:0", "title=Maria secret stream", "-metadata:s:0", "handler_name=Maria secret handler"}

// leaks lists what exiftool and ffprobe still see of the secret tags in the
// file at path.
func leaks(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	exif := string(run(t, "exiftool", "-json", "-G", "-a", "-ee", path))
	for _, bad := range []string{"Maria", "GPS", "40.7128", "40 deg", "2026:01:02"} {
		if strings.Contains(exif, bad) {
			out = append(out, "exiftool shows "+bad)
		}
	}
	var probe struct {
		Format  struct{ Tags map[string]string }
		Streams []struct {
			CodecType string `json:"codec_type"`
			Tags      map[string]string
		}
		Chapters []any
	}
	if err := json.Unmarshal(run(t, "ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", path), &probe); err != nil {
		t.Fatal(err)
	}
	check := func(where string, tags map[string]string) {
		for k, v := range tags {
			if strings.Contains(v, "Maria") || strings.Contains(v, "40.7128") || strings.HasPrefix(k, "location") || k == "creation_time" {
				out = append(out, "ffprobe "+where+" "+k+"="+v)
			}
		}
	}
	check("format", probe.Format.Tags)
	for _, s := range probe.Streams {
		check("stream "+s.CodecType, s.Tags)
	}
	if len(probe.Chapters) > 0 {
		out = append(out, "ffprobe shows chapters")
	}
	return out
}

// TestF20AudioVideoMetadataStripped: video and audio lose their GPS
// position, titles and dates, in the container and in every stream, on
// ingest; the streams are kept; and the video's poster frame (its only
// rendition) is clean too. Checked with exiftool and ffprobe on what was
// stored, on the local store and on MinIO.
func TestF20AudioVideoMetadataStripped(t *testing.T) {
	needTool(t, "ffmpeg")
	av := "testsrc=duration=2:size=320x240:rate=10"
	cases := []struct {
		name, file string
		args       []string
		kind       Kind
		streams    int
	}{
		{"mp4", "in.mp4", []string{"-f", "lavfi", "-i", av, "-f", "lavfi", "-i", "sine=duration=2", "-shortest", "-movflags", "use_metadata_tags"}, KindVideo, 2},
		{"mov", "in.mov", []string{"-f", "lavfi", "-i", av, "-f", "lavfi", "-i", "sine=duration=2", "-shortest"}, KindVideo, 2},
		{"m4a", "in.m4a", []string{"-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"}, KindAudio, 1},
		{"mp3", "in.mp3", []string{"-f", "lavfi", "-i", "sine=duration=2", "-c:a", "libmp3lame"}, KindAudio, 1},
		{"wav", "in.wav", []string{"-f", "lavfi", "-i", "sine=duration=2"}, KindAudio, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := lavfi(t, c.file, append(c.args, secretTags...)...)
			if l := leaks(t, writeTemp(t, c.file, src)); len(l) == 0 {
				t.Fatal("the fixture carries none of the metadata the test looks for")
			}
			eachStore(t, func(t *testing.T, s storage.Store) {
				ctx := context.Background()
				res, err := Ingest(ctx, s, "m/av", bytes.NewReader(src), Options{DeclaredName: c.file})
				if err != nil || res.Kind != c.kind || res.Degraded != "" || res.Duration == 0 {
					t.Fatalf("ingest: %+v %v", res, err)
				}
				_, path := fetch(t, s, "m/av")
				if l := leaks(t, path); len(l) > 0 {
					t.Fatalf("stored %s still carries metadata: %v", c.name, l)
				}
				var probe struct{ Streams []any }
				json.Unmarshal(run(t, "ffprobe", "-v", "error", "-print_format", "json", "-show_streams", path), &probe)
				if len(probe.Streams) != c.streams {
					t.Fatalf("stored %s has %d streams, want %d", c.name, len(probe.Streams), c.streams)
				}
				if c.kind != KindVideo {
					return
				}
				if _, err := PosterFrame(ctx, s, "m/av", "m/av.poster.jpg"); err != nil {
					t.Fatal(err)
				}
				_, poster := fetch(t, s, "m/av.poster.jpg")
				if l := leaks(t, poster); len(l) > 0 {
					t.Fatalf("poster frame carries metadata: %v", l)
				}
			})
		})
	}
}
