package website

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Service records publications and answers the public pages.
type Service struct {
	db    *gorm.DB
	audit *audit.Log
	// Gate decides, per request, what the patient currently allows.
	Gate ConsentGate
	// Purge, when set, queues the removal of a withdrawn story's public
	// addresses from the CDN, in the withdrawal's transaction (app/cdn).
	Purge Purger
}

// Purger queues a CDN purge of a story's public addresses inside tx.
type Purger interface {
	EnqueuePurge(ctx context.Context, tx *gorm.DB, storyID, reason string) error
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
var PublicRenditions = disclosure.PageRenditions

// Story is a story as the public sees it: the public page the disclosure
// package built, already rewritten for the consented name usage, with only
// the photos the patient allows.
type Story = disclosure.Page

// Photo is one allowed picture with its public crops by name.
type Photo = disclosure.Photo

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

// build checks publication and stage, then asks the disclosure package
// for the page: it applies the gate, the name usage and the fail-closed
// name check. Photos are loaded only for the full page.
func (s *Service) build(ctx context.Context, pub *models.WebsitePublication, photos bool) (*Story, error) {
	if pub.WithdrawnAt != nil {
		return nil, ErrGone
	}
	src := disclosure.Source{DB: s.db, Gate: s.Gate}
	in, err := src.Load(ctx, disclosure.Request{StoryID: pub.StoryID, Website: true, NoPhotos: !photos})
	if errors.Is(err, stories.ErrNotFound) {
		return nil, ErrGone
	}
	if err != nil {
		return nil, err
	}
	if in.Story.Stage != string(workflow.Published) {
		return nil, ErrGone
	}
	d, err := disclosure.Build(*in)
	var leak *disclosure.LeakError
	if errors.As(err, &leak) {
		slog.WarnContext(ctx, "public page refused: a withheld name survived", "story_id", pub.StoryID, "field", leak.Field)
		return nil, apperr.New(http.StatusGone, "This story cannot be shown: its "+leak.Field+" did not pass the check on the patient's name, so it was not published.")
	}
	if err != nil {
		return nil, err
	}
	if d.Page == nil {
		return nil, ErrGone
	}
	return d.Page, nil
}
