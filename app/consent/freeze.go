package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// frozenJSON is the canonical form read back, so pages and the certificate
// show the content exactly as signed rather than the story as it is now.
type frozenJSON struct {
	Body     string `json:"body"`
	Channels []struct {
		Channel string `json:"channel"`
		Text    string `json:"text"`
	} `json:"channels"`
	Format string `json:"format"`
	Media  []struct {
		AltText string `json:"alt_text"`
		Caption string `json:"caption"`
		FocalX  int    `json:"focal_x"`
		FocalY  int    `json:"focal_y"`
		ID      string `json:"id"`
		SHA256  string `json:"sha256"`
	} `json:"media"`
	NameUsage          string `json:"name_usage"`
	StoryID            string `json:"story_id"`
	Summary            string `json:"summary"`
	TemplateID         string `json:"template_id"`
	TemplateTextSHA256 string `json:"template_text_sha256"`
	TemplateVersion    int    `json:"template_version"`
	Title              string `json:"title"`
}

// ParseFrozen reads the canonical JSON stored with a request or record.
func ParseFrozen(canonical string) (Frozen, error) {
	var j frozenJSON
	if err := json.Unmarshal([]byte(canonical), &j); err != nil {
		return Frozen{}, fmt.Errorf("consent: frozen content: %w", err)
	}
	f := Frozen{Format: j.Format, StoryID: j.StoryID, Title: j.Title, Summary: j.Summary, Body: j.Body, NameUsage: j.NameUsage,
		TemplateID: j.TemplateID, TemplateVersion: j.TemplateVersion, TemplateTextSHA256: j.TemplateTextSHA256}
	for _, c := range j.Channels {
		f.Channels = append(f.Channels, ChannelCopy{Channel: c.Channel, Text: c.Text})
	}
	for _, m := range j.Media {
		f.Media = append(f.Media, MediaRef{ID: m.ID, SHA256: m.SHA256, AltText: m.AltText, Caption: m.Caption, FocalX: m.FocalX, FocalY: m.FocalY})
	}
	return f, nil
}

// freeze captures the content a patient is asked about: the story as it is
// now, each proposed channel's copy, each proposed media item by hash, the
// name usage and the form template. Media must belong to the story.
func (s *Service) freeze(ctx context.Context, st *models.Story, chans, mediaIDs []string, nameUsage string, t *models.ConsentTemplate) (Frozen, []models.MediaAsset, error) {
	f := Frozen{Format: DigestFormat, StoryID: st.ID, Title: st.Title, Summary: st.Summary, Body: st.Body, NameUsage: nameUsage,
		TemplateID: t.ID, TemplateVersion: t.Version, TemplateTextSHA256: t.TextSHA256, Channels: []ChannelCopy{}, Media: []MediaRef{}}
	cp := stories.Copy(st)
	for _, k := range chans {
		text := ""
		if c, _ := channels.Get(k); c.Social() {
			text = cp[k]
		}
		f.Channels = append(f.Channels, ChannelCopy{Channel: k, Text: text})
	}
	var media []models.MediaAsset
	for _, id := range mediaIDs {
		a, err := s.media.Get(ctx, id)
		if err != nil {
			return f, nil, err
		}
		if a.OwnerType != models.OwnerStory || a.OwnerID != st.ID {
			return f, nil, fmt.Errorf("consent: media %s is not the story's", id)
		}
		media = append(media, *a)
		f.Media = append(f.Media, mediaRef(a))
	}
	return f, media, nil
}

// currentDigest recomputes the digest of what r proposed from the story,
// media and template as they are now, reading through db; a difference
// means covered content changed after the request was sent. It reads the
// tables directly (not through the stories, templates and media services)
// so it can run on the consent reader while the stories service holds the
// one SQLite write connection in a transaction (Covers during approval).
func (s *Service) currentDigest(ctx context.Context, db *gorm.DB, format, storyID string, chans, mediaIDs []string, nameUsage, templateID string) (string, error) {
	db = db.WithContext(ctx)
	var st models.Story
	if err := db.Where("id = ?", storyID).Take(&st).Error; err != nil {
		return "", err
	}
	if err := db.Model(&models.StoryChannel{}).Where("story_id = ?", storyID).Pluck("channel", &st.Channels).Error; err != nil {
		return "", err
	}
	for _, k := range chans {
		if !slices.Contains(st.Channels, k) {
			return "", nil // a channel was dropped from the story
		}
	}
	var t models.ConsentTemplate
	if err := db.Where("id = ?", templateID).Take(&t).Error; err != nil {
		return "", err
	}
	f := Frozen{Format: format, StoryID: st.ID, Title: st.Title, Summary: st.Summary, Body: st.Body, NameUsage: nameUsage,
		TemplateID: t.ID, TemplateVersion: t.Version, TemplateTextSHA256: t.TextSHA256}
	cp := stories.Copy(&st)
	for _, k := range chans {
		text := ""
		if c, _ := channels.Get(k); c.Social() {
			text = cp[k]
		}
		f.Channels = append(f.Channels, ChannelCopy{Channel: k, Text: text})
	}
	for _, id := range mediaIDs {
		var a models.MediaAsset
		if err := db.Where("id = ? AND owner_type = ? AND owner_id = ?", id, models.OwnerStory, st.ID).Limit(1).Find(&a).Error; err != nil {
			return "", err
		}
		if a.ID == "" {
			return "", nil // deleted or moved: no longer matches
		}
		f.Media = append(f.Media, mediaRef(&a))
	}
	_, d := Digest(f)
	return d, nil
}

func mediaRef(a *models.MediaAsset) MediaRef {
	return MediaRef{ID: a.ID, SHA256: a.SHA256, AltText: a.AltText, Caption: a.Caption, FocalX: a.FocalX, FocalY: a.FocalY}
}

// formatOf is the digest format of stored frozen JSON (DigestFormatV1 for
// records made before captions and focal points were covered).
func formatOf(frozenJSON string) string {
	var j struct {
		Format string `json:"format"`
	}
	if json.Unmarshal([]byte(frozenJSON), &j) != nil || j.Format == "" {
		return DigestFormat
	}
	return j.Format
}
