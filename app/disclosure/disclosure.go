// Package disclosure is where to look for "what will the public see".
//
// Storykeep's promise is that the patient signs the exact words and
// pictures that will be published, in the form they chose, and nothing else
// leaves. Every exit — the public story page and its OpenGraph, Twitter and
// JSON-LD tags, the Atom and JSON feeds, the sitemap, each social channel's
// post, the export bundle and the short link — renders from one value built
// here by Build, from three inputs:
//
//   - the story revision (title, summary, body, channel copy, tags, photos
//     with their alt text, caption and crops),
//   - the patient's signed choices (name usage, channels, and the photos
//     allowed on each channel), as the consent gate answers them now,
//   - legal's approval of that revision (channels, not-before).
//
// Build applies the name usage to every field a reader will see, after
// Markdown rendering, on the rendered text (see Names), keeps only the
// photos the patient chose for each channel, and then checks the result:
// if any withheld form of the name survives in a field, Build fails with a
// *LeakError naming it, and exits check their final bytes the same way
// (Names.Check) before anything is written. An exit never reads story or
// media fields itself; it only serialises what Build returned.
//
// Load gathers the inputs from the database and the gate; For does both.
package disclosure

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/storykeep/storykeep/models"
)

// Website is the consent channel key of the public website.
const Website = "website"

// PageRenditions are the crops the website may serve; the others
// (instagram-portrait…) belong to social exports.
var PageRenditions = []string{"x", "opengraph", "instagram-square", "thumbnail"}

// Input is everything a disclosure is made from.
type Input struct {
	// Story is the revision going out, with Tags filled in.
	Story   models.Story
	Patient models.Patient
	// Photos are the story's images, in order, with their crops.
	Photos  []PhotoInput
	Choices Choices
	// Approval is legal's approval of this revision. Its channels and
	// not-before time are applied through the gate (Choices.Allowed);
	// Build refuses every exit when there is none.
	Approval *models.StoryApproval
	// Preview builds for the legal reviewer before approval: no approval
	// is needed. Never set for an exit.
	Preview bool
	// Publication is the website publication (public slug, dates), nil
	// when the story has none.
	Publication *models.WebsitePublication
	// PublicURL is the site's absolute address, without a trailing slash.
	PublicURL string
	// Codes are the short link codes by channel; a missing one gets a
	// placeholder of the same length in previews.
	Codes map[string]string
	// Rules says per channel which crop it uses and whether it needs one.
	Rules map[string]ChannelRule
}

// PhotoInput is one stored image of the story.
type PhotoInput struct {
	Asset      models.MediaAsset
	Renditions []models.MediaRendition
}

// ChannelRule is what Build needs to know of a social network.
type ChannelRule struct {
	Rendition  string
	MaxMedia   int
	NeedsPhoto bool
}

// Choices are the patient's signed choices as they stand now, and the
// channels the gate (approval and consent) allows.
type Choices struct {
	NameUsage string
	// Allowed are the channels that may go out now; Refused says why the
	// others may not.
	Allowed []string
	Refused map[string]string
	// Media lists per channel the photo ids the patient allows there.
	Media map[string][]string
}

// Disclosure is everything that may leave, per exit.
type Disclosure struct {
	StoryID  string
	Revision int
	Names    *Names
	// Page is the public page, nil when the website may not show it.
	Page *Page
	// Posts are the social posts that may go out, by channel; Refused says
	// why the others may not, for staff screens and delivery refusals.
	Posts   map[string]*Post
	Refused map[string]string
}

// Page is the public story page and everything derived from it.
type Page struct {
	StoryID   string
	Slug      string
	Path      string // "/p/<slug>"
	Title     string
	Summary   string
	Body      template.HTML
	Tags      []string
	Published time.Time
	Modified  time.Time
	Photos    []Photo
	Meta      Meta
	// Names checks the bytes an exit writes from this page (Names.Check).
	Names *Names
	// State names what the page was built from: the revision, legal's
	// approval, the name usage and the photos allowed. The public cache
	// puts it in the page's ETag (app/publiccache).
	State string
}

// Meta are the OpenGraph, Twitter card and JSON-LD fields. Image paths are
// site paths; the web layer makes them absolute.
type Meta struct {
	Title, Description string
	Image, ImageAlt    string
	TwitterImage       string
	Images             []string
}

// Photo is one picture allowed on an exit, its text already rewritten.
type Photo struct {
	AssetID, Alt, Caption string
	FocalX, FocalY        int
	Renditions            map[string]models.MediaRendition
}

// ImagePath is a crop's public address; v changes with the crop so the
// address may be cached as immutable.
func ImagePath(slug string, r models.MediaRendition) string {
	v := r.SHA256
	if len(v) > 12 {
		v = v[:12]
	}
	return "/p/" + url.PathEscape(slug) + "/img/" + url.PathEscape(r.AssetID) + "/" + url.PathEscape(r.Name) + "?v=" + v
}

// Post is one social channel's post before the network's formatting.
type Post struct {
	Channel  string
	Title    string
	Copy     string
	Link     string
	Photos   []Photo // only the photos the patient allows on this channel
	Dropped  []string
	Revision int
}

// FeedEntry is a story as the Atom and JSON feeds carry it.
type FeedEntry struct {
	URL, Title, Summary string
	ContentHTML         string
	Tags                []string
	Published, Modified time.Time
}

// Feed returns the page's feed entry; abs makes a site path absolute.
func (p *Page) Feed(abs func(string) string) FeedEntry {
	return FeedEntry{URL: abs(p.Path), Title: p.Title, Summary: p.Summary, ContentHTML: string(p.Body), Tags: p.Tags,
		Published: p.Published, Modified: p.Modified}
}

// ShortLinkTarget is where a short link of channel leads: the public page,
// never the staff slug, with the channel as UTM source.
func (p *Page) ShortLinkTarget(channel string) string {
	q := url.Values{"utm_source": {channel}, "utm_medium": {"social"}, "utm_campaign": {"storykeep"}}
	return p.Path + "?" + q.Encode()
}

// LeakError is a refusal: a withheld form of the patient's name survived
// in Field. It never carries the name itself.
type LeakError struct{ Field string }

func (e *LeakError) Error() string {
	return "The " + e.Field + " still names the patient beyond the consented name usage; it was not published."
}

// IsLeak reports whether err is a LeakError.
func IsLeak(err error) bool {
	var l *LeakError
	return errors.As(err, &l)
}

// CodeLen is the length of a short link code.
const CodeLen = 8

// Build makes the disclosure: the page if the website is allowed and
// published, and a post for every allowed social channel in in.Rules.
// A channel whose fields still name the patient is refused (Refused) rather
// than returned; a page that does is an error, since it is all there is.
func Build(in Input) (*Disclosure, error) {
	st := &in.Story
	names := NewNames(in.Patient.FullName, in.Patient.PreferredName, in.Choices.NameUsage)
	d := &Disclosure{StoryID: st.ID, Revision: st.Revision, Names: names, Posts: map[string]*Post{}, Refused: map[string]string{}}
	for ch, why := range in.Choices.Refused {
		d.Refused[ch] = why
	}
	if in.Approval == nil && !in.Preview {
		// No approval of this revision: nothing leaves, whatever a gate said.
		in.Choices.Allowed = nil
		for ch := range in.Rules {
			d.Refused[ch] = "Legal review has not approved the story's current revision."
		}
	}
	title, summary := names.Text(st.Title), names.Text(st.Summary)
	if in.Publication != nil && in.Publication.WithdrawnAt == nil && slices.Contains(in.Choices.Allowed, Website) {
		pg, err := buildPage(in, names, title, summary)
		if err != nil {
			return nil, err
		}
		d.Page = pg
	}
	copies := copyOf(st)
	for ch, rule := range in.Rules {
		if !slices.Contains(in.Choices.Allowed, ch) {
			continue
		}
		p, why := buildPost(in, names, ch, rule, title, summary, copies[ch])
		if why != "" {
			d.Refused[ch] = why
			continue
		}
		d.Posts[ch] = p
	}
	return d, nil
}

func buildPage(in Input, names *Names, title, summary string) (*Page, error) {
	pub := in.Publication
	pg := &Page{StoryID: in.Story.ID, Slug: pub.Slug, Path: "/p/" + url.PathEscape(pub.Slug), Title: title, Summary: summary,
		Body: names.Markdown(in.Story.Body), Published: pub.PublishedAt, Modified: pub.UpdatedAt, Names: names}
	for _, t := range in.Story.Tags {
		if names.Leak(t) == "" {
			pg.Tags = append(pg.Tags, t)
		}
	}
	allowed := in.Choices.Media[Website]
	for _, ph := range in.Photos {
		if !slices.Contains(allowed, ph.Asset.ID) {
			continue
		}
		p, ok := photo(ph, names, PageRenditions)
		if ok {
			pg.Photos = append(pg.Photos, p)
		}
	}
	pg.Meta = Meta{Title: title, Description: summary}
	for i, p := range pg.Photos {
		if r, ok := p.Renditions["opengraph"]; ok {
			pg.Meta.Images = append(pg.Meta.Images, ImagePath(pg.Slug, r))
			if pg.Meta.Image == "" {
				pg.Meta.Image, pg.Meta.ImageAlt = ImagePath(pg.Slug, r), p.Alt
			}
		}
		if r, ok := p.Renditions["x"]; ok && i == 0 {
			pg.Meta.TwitterImage = ImagePath(pg.Slug, r)
		}
	}
	if pg.Meta.TwitterImage == "" {
		pg.Meta.TwitterImage = pg.Meta.Image
	}
	if err := pg.check(names); err != nil {
		return nil, err
	}
	pg.State = fmt.Sprintf("r%d|u%s|m%s|p%s", in.Story.Revision, in.Choices.NameUsage, strings.Join(allowed, ","), pub.UpdatedAt.UTC().Format(time.RFC3339Nano))
	if ap := in.Approval; ap != nil {
		pg.State += "|a" + ap.ID + "|" + ap.CreatedAt.UTC().Format(time.RFC3339Nano)
		if ap.NotBefore != nil {
			pg.State += "|nb" + ap.NotBefore.UTC().Format(time.RFC3339)
		}
	}
	return pg, nil
}

// check runs the fail-closed test over every field of the page.
func (p *Page) check(n *Names) error {
	fields := [][2]string{{"public address", p.Path}, {"title", p.Title}, {"summary", p.Summary}, {"body", string(p.Body)}}
	for _, ph := range p.Photos {
		fields = append(fields, [2]string{"alt text of a photo", ph.Alt}, [2]string{"caption of a photo", ph.Caption})
	}
	for _, f := range fields {
		if err := n.Check(f[0], f[1]); err != nil {
			return err
		}
	}
	return nil
}

// photo is ph with its text rewritten and the crops in names, or false
// when it may not be shown: no alt text (approval requires it, and this
// keeps a later edit from slipping by) or no crop made yet.
func photo(ph PhotoInput, names *Names, crops []string) (Photo, bool) {
	a := ph.Asset
	if a.Kind != "image" || strings.TrimSpace(a.AltText) == "" {
		return Photo{}, false
	}
	p := Photo{AssetID: a.ID, Alt: names.Text(a.AltText), Caption: names.Text(a.Caption), FocalX: a.FocalX, FocalY: a.FocalY,
		Renditions: map[string]models.MediaRendition{}}
	for _, r := range ph.Renditions {
		if slices.Contains(crops, r.Name) {
			p.Renditions[r.Name] = r
		}
	}
	return p, len(p.Renditions) > 0
}

func buildPost(in Input, names *Names, ch string, rule ChannelRule, title, summary, copyText string) (*Post, string) {
	text := names.Text(copyText)
	if strings.TrimSpace(text) == "" {
		text = summary
	}
	code := in.Codes[ch]
	if code == "" {
		code = strings.Repeat("x", CodeLen)
	}
	p := &Post{Channel: ch, Title: title, Copy: text, Link: in.PublicURL + "/s/" + code, Revision: in.Story.Revision}
	allowed := in.Choices.Media[ch]
	for _, ph := range in.Photos {
		if ph.Asset.Kind != "image" {
			continue
		}
		if !slices.Contains(allowed, ph.Asset.ID) {
			p.Dropped = append(p.Dropped, ph.Asset.ID)
			continue
		}
		pp, ok := photo(ph, names, []string{rule.Rendition})
		if !ok {
			continue
		}
		if rule.MaxMedia > 0 && len(p.Photos) >= rule.MaxMedia {
			break
		}
		p.Photos = append(p.Photos, pp)
	}
	if rule.NeedsPhoto && len(p.Photos) == 0 {
		return nil, "This channel needs a photo, and the patient allowed none of the story's photos on it (or none is ready)."
	}
	fields := [][2]string{{"post text", p.Copy}, {"post title", p.Title}, {"link", p.Link}}
	for i, ph := range p.Photos {
		fields = append(fields, [2]string{fmt.Sprintf("alt text of photo %d", i+1), ph.Alt}, [2]string{fmt.Sprintf("caption of photo %d", i+1), ph.Caption})
	}
	for _, f := range fields {
		if err := names.Check(f[0], f[1]); err != nil {
			return nil, err.Error()
		}
	}
	return p, ""
}

// copyOf is the story's channel copy by channel key.
func copyOf(st *models.Story) map[string]string {
	m := map[string]string{}
	_ = jsonUnmarshal(st.ChannelCopy, &m)
	return m
}
