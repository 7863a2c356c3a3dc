package consent

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// MediaDescribed implements assets.DescribeHook: a change to the alt text,
// caption or focal point of a photo that a waiting request offers or a
// valid consent covers supersedes that consent exactly as a body edit does
// (finding F1). The story gets a new revision and goes back to drafting, so
// legal's approval no longer applies and the patient is asked again. It runs
// in the caller's transaction and reads through it.
func (s *Service) MediaDescribed(ctx context.Context, tx *gorm.DB, before, after models.MediaAsset) error {
	if after.OwnerType != models.OwnerStory {
		return nil
	}
	covered, err := coversMedia(tx, after.OwnerID, after.ID)
	if err != nil || !covered {
		return err
	}
	if s.Stories == nil {
		return nil
	}
	au := audit.ActorFrom(ctx)
	a := workflow.Actor{UserID: au.ID}
	return s.Stories.SupersedeIn(ctx, tx, a, after.OwnerID,
		"A photo's caption, alt text or focal point covered by the consent changed, so the story needs a new consent.")
}

// coversMedia reports whether a live request of the story, or the request
// of a valid record, names the asset.
func coversMedia(tx *gorm.DB, storyID, assetID string) (bool, error) {
	var lists []string
	if err := tx.Model(&models.ConsentRequest{}).Where("story_id = ? AND status IN ? AND media_ids LIKE ?", storyID,
		append(slices.Clone(liveRequest), models.RequestLocked), "%"+assetID+"%").Pluck("media_ids", &lists).Error; err != nil {
		return false, err
	}
	// A valid record's content digest pins every photo its request offered,
	// chosen or not, so an edit to any of them ends the record's validity.
	var recs []string
	if err := tx.Model(&models.ConsentRequest{}).Where("id IN (?) AND media_ids LIKE ?",
		tx.Model(&models.ConsentRecord{}).Select("request_id").Where("story_id = ? AND status = ?", storyID, models.RecordValid), "%"+assetID+"%").
		Pluck("media_ids", &recs).Error; err != nil {
		return false, err
	}
	for _, l := range append(lists, recs...) {
		if slices.Contains(parseList(l), assetID) {
			return true, nil
		}
	}
	return false, nil
}
