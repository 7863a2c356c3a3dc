package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/storykeep/storykeep/app/channels"
)

// Post is what a channel's post is made of, before formatting.
type Post struct {
	StoryID  string
	Channel  string
	Title    string
	Copy     string // the approved channel copy (or the summary)
	Link     string // tracked short link back to the public story
	Media    []MediaRef
	Revision int
}

// MediaRef is one image to attach, with the rendition the channel wants.
type MediaRef struct {
	AssetID   string
	Rendition string
	Alt       string
	Caption   string
	Width     int
	Height    int
}

// Formatted is a post ready to send: its text within the network's limits,
// how long the network counts it, and the parts some networks want apart.
type Formatted struct {
	Channel string
	Text    string
	Title   string // YouTube
	Link    string
	Count   int
	Limit   int
	Unit    string
	Facets  []Facet // Bluesky link facets
	Media   []MediaRef
}

// Facet marks a link in UTF-8 byte offsets, as AT Protocol wants.
type Facet struct {
	ByteStart, ByteEnd int
	URI                string
}

// MediaFile is an attached image's bytes, opened at send time.
type MediaFile struct {
	MediaRef
	ContentType string
	Data        []byte
	URL         string // a time-limited public URL (for webhook receivers)
}

// Account is a channel's decrypted delivery settings.
type Account struct {
	Channel string
	Method  string
	URL     string // webhook URL, Mastodon base URL or Bluesky PDS URL
	Handle  string // Bluesky handle
	Secret  string // webhook secret, Mastodon token or Bluesky app password
	Enabled bool
	// Key is the idempotency key of this send (story+channel+revision), so
	// networks that accept one drop a repeated attempt.
	Key string
	// StoryID is passed to webhook receivers.
	StoryID string
}

// ExternalRef is what the network calls the post.
type ExternalRef struct {
	ID  string
	URL string
}

// Adapter delivers posts through one method. Format refuses, before
// anything is sent, a post the network would refuse.
type Adapter interface {
	Method() string
	Format(ctx context.Context, acct Account, p Post) (Formatted, error)
	Publish(ctx context.Context, acct Account, f Formatted, media []MediaFile) (ExternalRef, error)
	Delete(ctx context.Context, acct Account, ref ExternalRef) error
}

// ErrGone means the post is no longer on the network (404/410): a takedown
// of it is already done.
var ErrGone = errors.New("export: the post is already gone")

// TooLongError refuses a post over the network's limit, with the count.
type TooLongError struct {
	Channel, Unit string
	Count, Limit  int
	What          string // "post", "title"
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("The %s %s is %d %s; the limit is %d. Shorten it by %d.", channels.Label(e.Channel), e.What, e.Count, e.Unit, e.Limit, e.Count-e.Limit)
}

// RefusedError is a post the network's rules refuse for another reason
// (too many hashtags).
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }
