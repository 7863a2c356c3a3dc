package assets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/models"
)

// JobRenditions is the job kind that makes an asset's renditions.
const JobRenditions = "media.renditions"

// renditionJob is the payload of JobRenditions.
type renditionJob struct {
	AssetID string `json:"asset_id"`
}

// QueueRenditions asks the job queue to (re)make an asset's renditions, e.g.
// after upload or a focal-point change. The key makes repeated requests for
// the same focal point one job.
func (s *Service) QueueRenditions(ctx context.Context, tx *gorm.DB, q *jobs.Queue, a *models.MediaAsset) error {
	if a.Kind == string(media.KindAudio) {
		return nil
	}
	_, err := q.Enqueue(ctx, tx, JobRenditions, renditionJob{AssetID: a.ID}, jobs.Options{
		Key: fmt.Sprintf("%s:%s:%d:%d:%d", JobRenditions, a.ID, a.FocalX, a.FocalY, a.UpdatedAt.UnixMicro()),
	})
	return err
}

// HandleRenditions is the job handler for JobRenditions.
func (s *Service) HandleRenditions(ctx context.Context, j *models.Job) error {
	var p renditionJob
	if err := jobs.Decode(j, &p); err != nil {
		return err
	}
	a, err := s.Get(ctx, p.AssetID)
	if err != nil {
		return jobs.Permanent(err) // deleted since; nothing to do
	}
	var rs []media.Rendition
	state := "ready"
	switch media.Kind(a.Kind) {
	case media.KindImage:
		rs, err = media.Render(ctx, s.store, a.StorageKey, media.FocalPoint{X: float64(a.FocalX) / 1000, Y: float64(a.FocalY) / 1000}, media.DefaultSpecs)
	case media.KindVideo:
		var r media.Rendition
		r, err = media.PosterFrame(ctx, s.store, a.StorageKey, media.RenditionKey(a.StorageKey, "poster"))
		if errors.Is(err, media.ErrToolMissing) {
			state, err = "degraded", nil
		} else if err == nil {
			rs = []media.Rendition{r}
		}
	default:
		return nil
	}
	if err != nil {
		s.db.WithContext(ctx).Model(&models.MediaAsset{}).Where("id = ?", a.ID).Update("renditions_state", "failed")
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, r := range rs {
			row := models.MediaRendition{AssetID: a.ID, Name: r.Spec.Name, StorageKey: r.Key, Width: r.Width, Height: r.Height,
				SizeBytes: r.Size, SHA256: r.SHA256, Note: r.Note, CreatedAt: time.Now().UTC()}
			if row.Name == "" {
				row.Name = "poster"
			}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
				return err
			}
		}
		return tx.Model(&models.MediaAsset{}).Where("id = ?", a.ID).Update("renditions_state", state).Error
	})
}

// Renditions lists an asset's renditions.
func (s *Service) Renditions(ctx context.Context, assetID string) ([]models.MediaRendition, error) {
	var rs []models.MediaRendition
	err := s.db.WithContext(ctx).Where("asset_id = ?", assetID).Order("name").Find(&rs).Error
	return rs, err
}

// Rendition returns one rendition, or a 404 error.
func (s *Service) Rendition(ctx context.Context, assetID, name string) (*models.MediaRendition, error) {
	var r models.MediaRendition
	err := s.db.WithContext(ctx).Where("asset_id = ? AND name = ?", assetID, name).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound
	}
	return &r, err
}
