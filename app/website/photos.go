package website

import (
	"context"
	"slices"

	"github.com/storykeep/storykeep/models"
)

// photos lists the story's described images the patient allows, one gate
// question each, with their public crops. A photo without alt text is never
// public: approval requires it, and this keeps a later edit from slipping by.
func (s *Service) photos(ctx context.Context, storyID, usage string, red *redactor) ([]Photo, error) {
	db := s.db.WithContext(ctx)
	var assets []models.MediaAsset
	if err := db.Where("owner_type = ? AND owner_id = ? AND kind = ? AND alt_text <> ''", models.OwnerStory, storyID, "image").
		Order("created_at, id").Find(&assets).Error; err != nil {
		return nil, err
	}
	if len(assets) == 0 {
		return nil, nil
	}
	ids := make([]string, len(assets))
	for i, a := range assets {
		ids[i] = a.ID
	}
	// One question for all photos first: the usual answer is yes to all.
	all, _, err := s.Gate.Allowed(ctx, storyID, Channel, ids, usage)
	if err != nil {
		return nil, err
	}
	var out []Photo
	for _, a := range assets {
		if !all {
			ok, _, err := s.Gate.Allowed(ctx, storyID, Channel, []string{a.ID}, usage)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		var rs []models.MediaRendition
		if err := db.Where("asset_id = ? AND name IN ?", a.ID, PublicRenditions).Find(&rs).Error; err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			continue // crops not made yet; the page shows no broken image
		}
		p := Photo{AssetID: a.ID, Alt: red.Text(a.AltText), Caption: red.Text(a.Caption), Renditions: map[string]models.MediaRendition{}}
		for _, r := range rs {
			p.Renditions[r.Name] = r
		}
		out = append(out, p)
	}
	return out, nil
}

// Image returns the crop `name` of photo assetID of the live story at slug,
// if the patient still allows that photo: ErrGone when the story or the
// photo is no longer allowed, ErrNotFound for anything that never was.
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
	var a models.MediaAsset
	if err := db.Where("id = ? AND owner_type = ? AND owner_id = ? AND kind = ?", assetID, models.OwnerStory, pub.StoryID, "image").
		Limit(1).Find(&a).Error; err != nil {
		return nil, err
	}
	if a.ID == "" {
		return nil, ErrNotFound
	}
	_, usage, err := s.live(ctx, &pub)
	if err != nil {
		return nil, err
	}
	if a.AltText == "" {
		return nil, ErrGone
	}
	if ok, _, err := s.Gate.Allowed(ctx, pub.StoryID, Channel, []string{a.ID}, usage); err != nil || !ok {
		return nil, orGone(err)
	}
	var r models.MediaRendition
	if err := db.Where("asset_id = ? AND name = ?", a.ID, name).Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.AssetID == "" {
		return nil, ErrNotFound
	}
	return &r, nil
}
