package disclosure

import (
	"context"
	"encoding/json"
	"slices"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// Gate answers what may go out now: legal's approval and the patient's
// consent (stories.ApprovalGate). Allowed with mediaIDs asks about those
// photos on channel; NameUsage is the usage the patient chose.
type Gate interface {
	Allowed(ctx context.Context, storyID, channel string, mediaIDs []string, nameUsage string) (ok bool, reason string, err error)
}

// UsageGate is a Gate that also knows the patient's chosen name usage. A
// gate without it is read as "anonymous", the least a consent allows.
type UsageGate interface {
	NameUsage(ctx context.Context, storyID string) (string, error)
}

// DatabaseGate is a gate whose answers follow from the database and the
// clock alone (stories.ApprovalGate over consent.Service): a change to what
// it would answer is a write to a table the public cache watches, or the
// passing of a consent expiry or approval not-before. The public cache is
// used only behind such a gate; any other gate is asked on every request.
type DatabaseGate interface {
	AnswersFromDatabase() bool
}

// Source loads disclosure inputs from the database and the gate.
type Source struct {
	DB        *gorm.DB
	Gate      Gate
	PublicURL string
}

// Request says which exits a caller needs.
type Request struct {
	StoryID string
	// Website asks for the public page.
	Website bool
	// Rules are the social channels wanted, with their needs.
	Rules map[string]ChannelRule
	// Story, when set, is used instead of loading the story (a preview of
	// a revision not yet approved).
	Story *models.Story
	// NoPhotos leaves photos out (index pages and feeds show none).
	NoPhotos bool
	// SkipGate builds as if every channel and photo were allowed with the
	// usage from NameUsage: for the reviewer's preview only, never for an
	// exit.
	SkipGate bool
}

// For loads the inputs and builds the disclosure.
func (s *Source) For(ctx context.Context, req Request) (*Disclosure, error) {
	in, err := s.Load(ctx, req)
	if err != nil {
		return nil, err
	}
	return Build(*in)
}

// Load gathers Build's inputs: the story, patient, photos and crops, the
// approval, the website publication, existing short link codes, and the
// patient's choices as the gate answers them now (one question per channel,
// then per photo only when not every photo is allowed).
func (s *Source) Load(ctx context.Context, req Request) (*Input, error) {
	db := s.DB.WithContext(ctx)
	st := req.Story
	if st == nil {
		st = &models.Story{}
		if err := db.Where("id = ?", req.StoryID).Limit(1).Find(st).Error; err != nil {
			return nil, err
		}
		if st.ID == "" {
			return nil, stories.ErrNotFound
		}
		if err := db.Model(&models.StoryTag{}).Where("story_id = ?", st.ID).Order("tag").Pluck("tag", &st.Tags).Error; err != nil {
			return nil, err
		}
	}
	in := &Input{Story: *st, PublicURL: s.PublicURL, Rules: req.Rules, Codes: map[string]string{},
		Choices: Choices{Refused: map[string]string{}, Media: map[string][]string{}}}
	if err := db.Where("id = ?", st.PatientID).Limit(1).Find(&in.Patient).Error; err != nil {
		return nil, err
	}
	var assets []models.MediaAsset
	if req.NoPhotos {
		// no photos wanted
	} else if err := db.Where("owner_type = ? AND owner_id = ? AND kind = ?", models.OwnerStory, st.ID, "image").
		Order("created_at, id").Find(&assets).Error; err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(assets))
	for _, a := range assets {
		ids = append(ids, a.ID)
	}
	var rs []models.MediaRendition
	if len(ids) > 0 {
		if err := db.Where("asset_id IN ?", ids).Order("asset_id, name").Find(&rs).Error; err != nil {
			return nil, err
		}
	}
	for _, a := range assets {
		ph := PhotoInput{Asset: a}
		for _, r := range rs {
			if r.AssetID == a.ID {
				ph.Renditions = append(ph.Renditions, r)
			}
		}
		in.Photos = append(in.Photos, ph)
	}
	ap, err := stories.ApprovalIn(db, st.ID)
	if err != nil {
		return nil, err
	}
	in.Approval = ap
	if req.Website {
		var pub models.WebsitePublication
		if err := db.Where("story_id = ?", st.ID).Limit(1).Find(&pub).Error; err != nil {
			return nil, err
		}
		if pub.StoryID != "" {
			in.Publication = &pub
		}
	}
	var links []models.ShortLink
	if err := db.Where("story_id = ?", st.ID).Find(&links).Error; err != nil {
		return nil, err
	}
	for _, l := range links {
		in.Codes[l.Channel] = l.Code
	}
	in.Choices.NameUsage = NameAnonymous
	if ug, ok := s.Gate.(UsageGate); ok {
		u, err := ug.NameUsage(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		in.Choices.NameUsage = u
	}
	var chans []string
	if req.Website {
		chans = append(chans, Website)
	}
	for ch := range req.Rules {
		chans = append(chans, ch)
	}
	slices.Sort(chans)
	if req.SkipGate {
		in.Preview = true
		if in.Choices.NameUsage == "" {
			in.Choices.NameUsage = NameAnonymous
		}
		in.Choices.Allowed = chans
		for _, ch := range chans {
			in.Choices.Media[ch] = ids
		}
		return in, nil
	}
	if !slices.Contains([]string{NameFull, NameFirst, NameAnonymous}, in.Choices.NameUsage) {
		for _, ch := range chans {
			in.Choices.Refused[ch] = "No valid consent covers the story's current content."
		}
		return in, nil
	}
	for _, ch := range chans {
		ok, why, err := s.Gate.Allowed(ctx, st.ID, ch, nil, in.Choices.NameUsage)
		if err != nil {
			return nil, err
		}
		if !ok {
			in.Choices.Refused[ch] = why
			continue
		}
		in.Choices.Allowed = append(in.Choices.Allowed, ch)
		media, err := s.allowedMedia(ctx, st.ID, ch, ids, in.Choices.NameUsage)
		if err != nil {
			return nil, err
		}
		in.Choices.Media[ch] = media
	}
	return in, nil
}

func (s *Source) allowedMedia(ctx context.Context, storyID, ch string, ids []string, usage string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	all, _, err := s.Gate.Allowed(ctx, storyID, ch, ids, usage)
	if err != nil || all {
		return ids, err
	}
	var out []string
	for _, id := range ids {
		ok, _, err := s.Gate.Allowed(ctx, storyID, ch, []string{id}, usage)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

func jsonUnmarshal(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
