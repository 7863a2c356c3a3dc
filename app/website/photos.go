package website

import (
	"context"
	"slices"

	"github.com/storykeep/storykeep/models"
)

// Image returns the crop `name` of photo assetID of the live story at slug,
// if the patient still allows that photo: ErrGone when the story or the
// photo is no longer allowed, ErrNotFound for anything that never was. It
// is looked up in the page the disclosure package builds, so an image is
// served exactly when the page would show it.
func (s *Service) Image(ctx context.Context, slug, assetID, name string) (*models.MediaRendition, error) {
	if !slices.Contains(PublicRenditions, name) {
		return nil, ErrNotFound
	}
	var pub models.WebsitePublication
	db := s.db.WithContext(ctx)
	if err := db.Where("slug = ?", slug).Limit(1).Find(&pub).Error; err != nil {
		return nil, err
	}
	if pub.StoryID == "" {
		return nil, ErrNotFound
	}
	var n int64
	if err := db.Model(&models.MediaAsset{}).Where("id = ? AND owner_type = ? AND owner_id = ? AND kind = ?", assetID, models.OwnerStory, pub.StoryID, "image").
		Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrNotFound
	}
	page, err := s.build(ctx, &pub, true)
	if err != nil {
		return nil, err
	}
	for _, p := range page.Photos {
		if p.AssetID != assetID {
			continue
		}
		if r, ok := p.Renditions[name]; ok {
			return &r, nil
		}
		return nil, ErrNotFound
	}
	return nil, ErrGone
}
