package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DigestFormat names the canonical form below. It is the first member of the
// canonical JSON so a future form can never produce a digest that collides
// with, or is mistaken for, one made by this version.
//
// Version 2 adds each photo's caption and focal point (its crop), which the
// public page shows (finding F1). Records made under version 1 keep being
// checked with version 1: their frozen JSON names the format.
const DigestFormat = "storykeep-consent-digest/2"

// DigestFormatV1 is the form before captions and focal points were covered.
const DigestFormatV1 = "storykeep-consent-digest/1"

// Frozen is the exact content a patient is asked to authorise, captured when
// the request is sent. The patient signs its digest, so any later change to
// covered content is detectable and supersedes the consent.
type Frozen struct {
	Format             string // DigestFormat, or DigestFormatV1 for old records; "" means DigestFormat
	StoryID            string
	Title              string
	Summary            string
	Body               string
	Channels           []ChannelCopy
	Media              []MediaRef
	NameUsage          string // full, first_name or anonymous
	TemplateID         string
	TemplateVersion    int
	TemplateTextSHA256 string
}

// ChannelCopy is the text a channel would publish; it is covered by the
// digest because a patient consents to each post, not only to the story.
type ChannelCopy struct {
	Channel string
	Text    string
}

// MediaRef pins a media item by its content hash, so replacing a photo after
// signing breaks the digest even if the id stays the same.
type MediaRef struct {
	ID      string
	SHA256  string
	AltText string
	Caption string // version 2 on
	FocalX  int    // version 2 on: the focal point (0..1000) the crops centre on
	FocalY  int
}

// Digest returns the canonical bytes of f and their SHA-256 in lowercase hex.
// The canonical form is specified in docs/consent-digest.md so an outside
// expert can recompute it; it is RFC 8785 (JCS) JSON of the normalised content.
func Digest(f Frozen) (canonical []byte, sha256hex string) {
	channels := make([]ChannelCopy, len(f.Channels))
	for i, c := range f.Channels {
		channels[i] = ChannelCopy{Channel: canon(c.Channel), Text: canon(c.Text)}
	}
	slices.SortFunc(channels, func(a, b ChannelCopy) int {
		if c := strings.Compare(a.Channel, b.Channel); c != 0 {
			return c
		}
		return strings.Compare(a.Text, b.Text)
	})
	media := make([]MediaRef, len(f.Media))
	for i, m := range f.Media {
		media[i] = MediaRef{ID: canon(m.ID), SHA256: canon(m.SHA256), AltText: canon(m.AltText), Caption: canon(m.Caption), FocalX: m.FocalX, FocalY: m.FocalY}
	}
	v1 := f.Format == DigestFormatV1
	slices.SortFunc(media, func(a, b MediaRef) int {
		for _, c := range []int{strings.Compare(a.ID, b.ID), strings.Compare(a.SHA256, b.SHA256), strings.Compare(a.AltText, b.AltText),
			strings.Compare(a.Caption, b.Caption), a.FocalX - b.FocalX, a.FocalY - b.FocalY} {
			if c != 0 {
				return c
			}
		}
		return 0
	})

	// Members are written in ascending key order (as RFC 8785 requires), so
	// the output is the JCS form without needing a generic sorter.
	var w jcsWriter
	w.raw("{")
	w.member("body", canon(f.Body))
	w.raw(`,"channels":[`)
	for i, c := range channels {
		if i > 0 {
			w.raw(",")
		}
		w.raw("{")
		w.member("channel", c.Channel)
		w.raw(",")
		w.member("text", c.Text)
		w.raw("}")
	}
	w.raw("],")
	if v1 {
		w.member("format", DigestFormatV1)
	} else {
		w.member("format", DigestFormat)
	}
	w.raw(`,"media":[`)
	for i, m := range media {
		if i > 0 {
			w.raw(",")
		}
		w.raw("{")
		w.member("alt_text", m.AltText)
		if !v1 {
			w.raw(",")
			w.member("caption", m.Caption)
			w.raw(`,"focal_x":` + strconv.Itoa(m.FocalX) + `,"focal_y":` + strconv.Itoa(m.FocalY))
		}
		w.raw(",")
		w.member("id", m.ID)
		w.raw(",")
		w.member("sha256", m.SHA256)
		w.raw("}")
	}
	w.raw("],")
	w.member("name_usage", canon(f.NameUsage))
	w.raw(",")
	w.member("story_id", canon(f.StoryID))
	w.raw(",")
	w.member("summary", canon(f.Summary))
	w.raw(",")
	w.member("template_id", canon(f.TemplateID))
	w.raw(",")
	w.member("template_text_sha256", canon(f.TemplateTextSHA256))
	w.raw(`,"template_version":` + strconv.Itoa(f.TemplateVersion) + ",")
	w.member("title", canon(f.Title))
	w.raw("}")

	sum := sha256.Sum256(w.b)
	return w.b, hex.EncodeToString(sum[:])
}

// canon normalises a string the way the digest specification says: invalid
// UTF-8 becomes U+FFFD, CRLF and lone CR become LF, then Unicode NFC.
func canon(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return norm.NFC.String(s)
}

type jcsWriter struct{ b []byte }

func (w *jcsWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jcsWriter) member(key, value string) {
	w.str(key)
	w.b = append(w.b, ':')
	w.str(value)
}

// str writes s as an RFC 8785 string: only '"', '\\' and control characters
// are escaped (short forms where JSON has them, else \u00xx in lowercase);
// everything else, including non-ASCII, is written as UTF-8.
func (w *jcsWriter) str(s string) {
	const hexdigits = "0123456789abcdef"
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			w.raw(`\"`)
		case r == '\\':
			w.raw(`\\`)
		case r == '\b':
			w.raw(`\b`)
		case r == '\f':
			w.raw(`\f`)
		case r == '\n':
			w.raw(`\n`)
		case r == '\r':
			w.raw(`\r`)
		case r == '\t':
			w.raw(`\t`)
		case r < 0x20:
			w.b = append(w.b, '\\', 'u', '0', '0', hexdigits[r>>4], hexdigits[r&0xf])
		default:
			w.b = append(w.b, s[i:i+size]...)
		}
		i += size
	}
	w.b = append(w.b, '"')
}
