package media

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
)

// Reason classifies a refusal so handlers can pick a status code or a help
// link without parsing the message.
type Reason string

// Reasons an upload is refused.
const (
	ReasonEmpty         Reason = "empty"
	ReasonType          Reason = "type"      // not an accepted type
	ReasonTooLarge      Reason = "too_large" // bytes over the kind's limit
	ReasonTooManyPixels Reason = "too_many_pixels"
	ReasonDamaged       Reason = "damaged"     // looks like an accepted type but does not decode
	ReasonUnsupported   Reason = "unsupported" // accepted in principle, not convertible here (HEIC)
)

// RejectError is the user's fault, not the server's: Msg is a plain-English
// sentence safe to show on the upload form; everything else is a server or
// storage failure to log.
type RejectError struct {
	Reason Reason
	Msg    string
}

func (e *RejectError) Error() string { return "media: rejected (" + string(e.Reason) + "): " + e.Msg }

// ErrToolMissing is wrapped by errors from features that need ffmpeg or
// ffprobe when the tool is not installed, so callers can degrade instead of
// failing the request.
var ErrToolMissing = errors.New("media: required tool not installed")

func reject(r Reason, format string, args ...any) *RejectError {
	return &RejectError{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// asReject returns the RejectError in err's chain, if any.
func asReject(err error) (*RejectError, bool) {
	var re *RejectError
	ok := errors.As(err, &re)
	return re, ok
}

// subject names the file in a message: its declared base name, quoted and
// cleaned of control characters, or "This file".
func subject(declared string) string {
	name := path.Base(strings.ReplaceAll(declared, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		return "This file"
	}
	if r := []rune(name); len(r) > 80 {
		name = string(r[:77]) + "…"
	}
	return `"` + name + `"`
}

// humanSize prints a limit the way people read it: "4 GB", "30 MB".
func humanSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GB"}, {1 << 20, "MB"}, {1 << 10, "KB"}} {
		if n >= u.size {
			if n%u.size == 0 {
				return fmt.Sprintf("%d %s", n/u.size, u.name)
			}
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
