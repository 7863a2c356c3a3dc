package website

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/publiccache"
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
	// Cache is the public response cache, told of every withdrawal (nil:
	// none).
	Cache *publiccache.Cache
}

// Purger queues a CDN purge of a story's public addresses inside tx.
type Purger interface {
	EnqueuePurge(ctx context.Context, tx *gorm.DB, storyID, reason string) error
}

// Cacheable reports whether the gate's answers follow from the database
// and the clock alone, so the public cache may keep what it produced.
func (s *Service) Cacheable() bool {
	g, ok := s.Gate.(disclosure.DatabaseGate)
	return ok && g.AnswersFromDatabase()
}

// Bounds is the public cache's time limit: the next moment a valid
// consent expires or an approval's publish-not-before passes, when the
// gate's answer changes with no write.
func Bounds(db *gorm.DB) publiccache.Bounds {
	return func(ctx context.Context, now time.Time) (time.Time, error) {
		var next time.Time
		var ts []time.Time
		q := db.WithContext(ctx)
		if err := q.Model(&models.ConsentRecord{}).Where("status = ? AND expires_on > ?", models.RecordValid, now.UTC()).
			Order("expires_on").Limit(1).Pluck("expires_on", &ts).Error; err != nil {
			return next, err
		}
		if len(ts) > 0 {
			next = ts[0]
		}
		ts = nil
		if err := q.Model(&models.StoryApproval{}).Where("not_before > ?", now.UTC()).Order("not_before").Limit(1).Pluck("not_before", &ts).Error; err != nil {
			return next, err
		}
		if len(ts) > 0 && (next.IsZero() || ts[0].Before(next)) {
			next = ts[0]
		}
		return next, nil
	}
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
