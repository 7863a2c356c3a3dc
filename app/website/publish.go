package website

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Transitioned implements workflow.Hooks: publishing a story consented and
// approved for the website records its publication; leaving "published"
// (withdrawn on revocation or expiry, or archived) marks it withdrawn. It
// runs in the transition's transaction and reads only through tx, which
// SQLite's single connection requires, so it never asks the gate: the gate
// is asked on every request instead.
func (s *Service) Transitioned(ctx context.Context, tx *gorm.DB, ev workflow.TransitionEvent) error {
	switch {
	case ev.To == workflow.Published:
		return s.publish(ctx, tx, ev)
	case ev.From == workflow.Published || ev.To == workflow.Withdrawn:
		return s.withdraw(ctx, tx, ev)
	}
	return nil
}

// ConsentSuperseded implements workflow.Hooks. Published content cannot be
// edited, so a superseded consent never concerns a live page.
func (s *Service) ConsentSuperseded(context.Context, *gorm.DB, workflow.ConsentSuperseded) error {
	return nil
}

func (s *Service) publish(ctx context.Context, tx *gorm.DB, ev workflow.TransitionEvent) error {
	var st models.Story
	if err := tx.Where("id = ?", ev.StoryID).Take(&st).Error; err != nil {
		return err
	}
	ap, err := stories.ApprovalIn(tx, st.ID)
	if err != nil {
		return err
	}
	if ap == nil || !slices.Contains(ap.Channels, Channel) {
		return nil // approved for social channels only
	}
	chans := ap.Channels
	var p models.Patient
	if err := tx.Where("id = ?", st.PatientID).Limit(1).Find(&p).Error; err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	chanJSON, _ := json.Marshal(chans)
	var pub models.WebsitePublication
	err = tx.Where("story_id = ?", st.ID).Take(&pub).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		slug, err := freeSlug(tx, publicSlug(st.Slug, p.FullName, p.PreferredName), st.ID)
		if err != nil {
			return err
		}
		pub = models.WebsitePublication{StoryID: st.ID, Slug: slug, Channels: string(chanJSON), Revision: st.Revision, PublishedAt: now, UpdatedAt: now}
		err = tx.Create(&pub).Error
		if err != nil {
			return err
		}
	case err != nil:
		return err
	default: // published again: same address, first publication date kept
		if err := tx.Model(&pub).Updates(map[string]any{"channels": string(chanJSON), "revision": st.Revision, "updated_at": now,
			"withdrawn_at": nil, "withdrawn_reason": ""}).Error; err != nil {
			return err
		}
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "website.publish", ObjectType: "story", ObjectID: st.ID,
		Details: map[string]any{"slug": pub.Slug, "revision": st.Revision}})
}

func (s *Service) withdraw(ctx context.Context, tx *gorm.DB, ev workflow.TransitionEvent) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	q := tx.Model(&models.WebsitePublication{}).Where("story_id = ? AND withdrawn_at IS NULL", ev.StoryID).
		Updates(map[string]any{"withdrawn_at": now, "withdrawn_reason": string(ev.To), "updated_at": now})
	if q.Error != nil || q.RowsAffected == 0 {
		return q.Error
	}
	if err := s.audit.Record(ctx, tx, audit.Entry{Action: "website.withdraw", ObjectType: "story", ObjectID: ev.StoryID,
		Details: map[string]any{"to": ev.To}}); err != nil {
		return err
	}
	// The CDN may hold the page, its pictures and the lists that showed it.
	if s.Purge != nil {
		if err := s.Purge.EnqueuePurge(ctx, tx, ev.StoryID, string(ev.To)); err != nil {
			return err
		}
	}
	if s.Cache == nil {
		return nil
	}
	w, err := withdrawal(tx, ev)
	if err != nil {
		return err
	}
	return s.Cache.Withdrawn(ctx, tx, w)
}

// withdrawal lists every public address that showed the story: its page,
// each crop of each photo (versioned, as pages link them), the index, its
// tag pages, the feeds and the sitemap. It reads through tx.
func withdrawal(tx *gorm.DB, ev workflow.TransitionEvent) (publiccache.Withdrawal, error) {
	w := publiccache.Withdrawal{StoryID: ev.StoryID, Reason: string(ev.To), Note: ev.Note}
	var pub models.WebsitePublication
	if err := tx.Where("story_id = ?", ev.StoryID).Take(&pub).Error; err != nil {
		return w, err
	}
	w.Slug = pub.Slug
	page := "/p/" + url.PathEscape(pub.Slug)
	w.Paths = append(w.Paths, page)
	var assets []string
	if err := tx.Model(&models.MediaAsset{}).Where("owner_type = ? AND owner_id = ? AND kind = ?", models.OwnerStory, ev.StoryID, "image").
		Order("created_at, id").Pluck("id", &assets).Error; err != nil {
		return w, err
	}
	if len(assets) > 0 {
		var rs []models.MediaRendition
		if err := tx.Where("asset_id IN ? AND name IN ?", assets, PublicRenditions).Order("asset_id, name").Find(&rs).Error; err != nil {
			return w, err
		}
		for _, r := range rs {
			w.Paths = append(w.Paths, disclosure.ImagePath(pub.Slug, r))
		}
	}
	w.Paths = append(w.Paths, "/p")
	var tags []string
	if err := tx.Model(&models.StoryTag{}).Where("story_id = ?", ev.StoryID).Order("tag").Pluck("tag", &tags).Error; err != nil {
		return w, err
	}
	for _, t := range tags {
		w.Paths = append(w.Paths, "/p/tag/"+url.PathEscape(t))
	}
	w.Paths = append(w.Paths, "/feed.atom", "/feed.json", "/sitemap.xml")
	return w, nil
}

// freeSlug returns slug, or slug with a piece of the story id when another
// story already has that public address.
func freeSlug(tx *gorm.DB, slug, storyID string) (string, error) {
	var n int64
	if err := tx.Model(&models.WebsitePublication{}).Where("slug = ?", slug).Count(&n).Error; err != nil || n == 0 {
		return slug, err
	}
	return slug + "-" + storyID[len(storyID)-8:], nil
}
