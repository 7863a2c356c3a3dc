package media

import (
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// sniffLen is how much of the upload mimetype looks at (its default limit).
const sniffLen = 3072

// format is an accepted upload type and how it is stored.
type format struct {
	kind Kind
	name string // for messages: "a JPEG photo"
	// contentType is stored for audio and video (unchanged bytes); images
	// get the type of their re-encoding.
	contentType string
}

var accepted = map[string]format{
	"image/jpeg":             {KindImage, "a JPEG photo", "image/jpeg"},
	"image/png":              {KindImage, "a PNG image", "image/png"},
	"image/vnd.mozilla.apng": {KindImage, "an animated PNG", "image/png"},
	"image/webp":             {KindImage, "a WebP image", "image/webp"},
	"image/gif":              {KindImage, "a GIF image", "image/gif"},
	"image/heic":             {KindImage, "a HEIC photo", "image/heic"},
	"image/heic-sequence":    {KindImage, "a HEIC photo", "image/heic"},
	"image/heif":             {KindImage, "a HEIF photo", "image/heif"},
	"image/heif-sequence":    {KindImage, "a HEIF photo", "image/heif"},
	"video/mp4":              {KindVideo, "an MP4 video", "video/mp4"},
	"video/x-m4v":            {KindVideo, "an MP4 video", "video/mp4"},
	"video/quicktime":        {KindVideo, "a QuickTime (MOV) video", "video/quicktime"},
	"audio/mp4":              {KindAudio, "an M4A recording", "audio/mp4"},
	"audio/x-m4a":            {KindAudio, "an M4A recording", "audio/mp4"},
	"audio/mpeg":             {KindAudio, "an MP3 recording", "audio/mpeg"},
	"audio/wav":              {KindAudio, "a WAV recording", "audio/wav"},
}

// acceptedList is the sentence every type refusal ends with.
const acceptedList = "Accepted are JPEG, PNG, WebP, GIF and HEIC photos, MP4 and MOV videos, and M4A, MP3 and WAV audio."

// refusedNames put common refused types in words a user knows.
var refusedNames = map[string]string{
	"image/svg+xml":   "an SVG drawing",
	"text/html":       "a web page (HTML)",
	"application/pdf": "a PDF document",
	"application/vnd.microsoft.portable-executable": "a Windows program",
	"application/x-elf":                             "a program (ELF executable)",
	"application/x-executable":                      "a program (ELF executable)",
	"application/x-sharedlib":                       "a program library",
	"application/x-mach-binary":                     "a macOS program",
	"application/zip":                               "a ZIP archive",
	"text/plain":                                    "a text file",
	"application/octet-stream":                      "of a type that could not be recognised",
}

// detect decides the type from the first bytes only; the declared name and
// the browser's Content-Type are never consulted.
func detect(head []byte, declared string) (format, string, error) {
	mime, _, _ := strings.Cut(mimetype.Detect(head).String(), ";")
	// Exact matches only: mimetype's parents are too broad (AVIF and 3GP
	// descend from MP4, HTML from plain text).
	if f, ok := accepted[mime]; ok {
		return f, mime, nil
	}
	what, ok := refusedNames[mime]
	if !ok {
		what = "of type " + mime
	}
	return format{}, mime, reject(ReasonType, "%s is %s, which cannot be uploaded. %s", subject(declared), what, acceptedList)
}

// SniffLen is how many first bytes Sniff needs (fewer only at the end of a
// short file).
const SniffLen = sniffLen

// Sniff decides from a file's first bytes whether it is an accepted type,
// and checks size, the whole file's declared length, against that kind's
// limit, exactly as Ingest will: a resumable upload checks its first chunk
// with it, so an unacceptable file is refused before the rest is staged.
func Sniff(head []byte, declared string, size int64, opts Options) (Kind, error) {
	opts = opts.withDefaults()
	f, _, err := detect(head, declared)
	if err != nil {
		return "", err
	}
	if limit := opts.Limits.of(f.kind); size > limit {
		return "", reject(ReasonTooLarge, "This %s is larger than the %s limit.", kindWord[f.kind], humanSize(limit))
	}
	return f.kind, nil
}
