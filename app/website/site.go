package website

import (
	"context"
	"html/template"
	"net/http"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/markdown"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Service records publications and answers the public pages.
type Service struct {
	db    *gorm.DB
	audit *audit.Log
	// Gate decides, per request, what the patient currently allows.
	Gate ConsentGate
}

// New returns the service with the deny-all gate; the consent capability
// replaces Gate once it exists.
func New(db *gorm.DB, log *audit.Log) *Service {
	return &Service{db: db, audit: log, Gate: DenyAll{}}
}

// Errors the public handlers turn into plain pages.
var (
	ErrNotFound = apperr.NotFound("There is no story at this address.")
	ErrGone     = apperr.New(http.StatusGone, "It has been taken down from this website and cannot be shown any more.")
)

// PublicRenditions are the crops the website may serve; the others
// (instagram-portrait…) belong to social exports.
var PublicRenditions = []string{"x", "opengraph", "instagram-square", "thumbnail"}

// Story is a story as the public sees it: already rewritten for the
// consented name usage, with only the photos the patient allows.
type Story struct {
	ID, Slug       string
	Title, Summary string
	Body           template.HTML
	Tags           []string
	Published      time.Time
	Modified       time.Time
	Photos         []Photo
}

// Photo is one allowed picture with its public crops by name.
type Photo struct {
	AssetID, Alt, Caption string
	Renditions            map[string]models.MediaRendition
}

// Find returns the live story at slug: ErrNotFound for an address never
// published, ErrGone once withdrawn or no longer allowed by the consent.
func (s *Service) Find(ctx context.Context, slug string) (*Story, error) {
	var pub models.WebsitePublication
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).Limit(1).Find(&pub).Error; err != nil {
		return nil, err
	}
	if pub.StoryID == "" {
		return nil, ErrNotFound
	}
	return s.build(ctx, &pub, true)
}

// List returns the live stories, newest first, optionally with one tag.
// Each is checked against the gate, like a page.
func (s *Service) List(ctx context.Context, tag string, limit int) ([]Story, error) {
	var pubs []models.WebsitePublication
	q := s.db.WithContext(ctx).Joins("JOIN stories ON stories.id = website_publications.story_id").
		Where("website_publications.withdrawn_at IS NULL AND stories.stage = ?", workflow.Published).
		Order("website_publications.published_at DESC, website_publications.story_id DESC").Limit(limit)
	if tag != "" {
		q = q.Where("EXISTS (SELECT 1 FROM story_tags t WHERE t.story_id = stories.id AND t.tag = ?)", tag)
	}
	if err := q.Find(&pubs).Error; err != nil {
		return nil, err
	}
	out := []Story{}
	for i := range pubs {
		st, err := s.build(ctx, &pubs[i], false)
		if e, ok := apperr.As(err); ok && e.Status == http.StatusGone {
			continue
		}
		if err != nil {
			return nil, err
		}
		if tag == "" || slices.Contains(st.Tags, tag) {
			out = append(out, *st)
		}
	}
	return out, nil
}

// build checks publication, stage and gate, then rewrites the story for
// the consented name usage. Photos are loaded only for the full page.
func (s *Service) build(ctx context.Context, pub *models.WebsitePublication, photos bool) (*Story, error) {
	st, usage, err := s.live(ctx, pub)
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	var p models.Patient
	if err := db.Where("id = ?", st.PatientID).Limit(1).Find(&p).Error; err != nil {
		return nil, err
	}
	red := newRedactor(p.FullName, p.PreferredName, usage)
	out := &Story{ID: st.ID, Slug: pub.Slug, Title: red.Text(st.Title), Summary: red.Text(st.Summary),
		Body: markdown.Render(red.Text(st.Body)), Published: pub.PublishedAt, Modified: pub.UpdatedAt}
	var tags []string
	if err := db.Model(&models.StoryTag{}).Where("story_id = ?", st.ID).Order("tag").Pluck("tag", &tags).Error; err != nil {
		return nil, err
	}
	for _, t := range tags {
		if !red.Hides(t) {
			out.Tags = append(out.Tags, t)
		}
	}
	if photos {
		out.Photos, err = s.photos(ctx, st.ID, usage, red)
	}
	return out, err
}

// live returns the story behind pub and its consented name usage if it may
// be shown now, or ErrGone.
func (s *Service) live(ctx context.Context, pub *models.WebsitePublication) (*models.Story, string, error) {
	if pub.WithdrawnAt != nil {
		return nil, "", ErrGone
	}
	var st models.Story
	if err := s.db.WithContext(ctx).Where("id = ?", pub.StoryID).Limit(1).Find(&st).Error; err != nil {
		return nil, "", err
	}
	if st.Stage != string(workflow.Published) {
		return nil, "", ErrGone
	}
	usage, ok, err := s.allowed(ctx, st.ID, nil)
	if err != nil || !ok {
		return nil, "", orGone(err)
	}
	return &st, usage, nil
}

// allowed asks the gate for the consented name usage and whether the story
// (or, with mediaIDs, those items) may be shown with it.
func (s *Service) allowed(ctx context.Context, storyID string, mediaIDs []string) (string, bool, error) {
	usage, err := s.Gate.NameUsage(ctx, storyID)
	if err != nil || !slices.Contains([]string{NameFull, NameFirst, NameAnonymous}, usage) {
		return "", false, err
	}
	ok, _, err := s.Gate.Allowed(ctx, storyID, Channel, mediaIDs, usage)
	return usage, ok && err == nil, err
}

func orGone(err error) error {
	if err != nil {
		return err
	}
	return ErrGone
}
