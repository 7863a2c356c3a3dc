package export

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// Preview is one channel's formatted post as the publisher sees it before
// sending: the text, its count against the limit, and why it would be
// refused, if it would.
type Preview struct {
	Channel string
	Label   string
	Method  string
	Post    Formatted
	Refusal string
}

// Approved lists the social channels legal review approved st's current
// revision for, in screen order, with the approval itself (nil if there is
// none: then no channel).
func (s *Service) Approved(ctx context.Context, st *models.Story) ([]string, *models.StoryApproval, error) {
	ap, err := s.stories.Approval(ctx, st.ID)
	if err != nil || ap == nil {
		return nil, nil, err
	}
	var out []string
	for _, c := range Social() {
		if slices.Contains(ap.Channels, c.Key) {
			out = append(out, c.Key)
		}
	}
	return out, ap, nil
}

// Publishable reports whether st's stage lets it leave Storykeep.
func Publishable(st *models.Story) bool {
	return st.Stage == "approved" || st.Stage == "published"
}

// post builds channel's post of st. code is the short link's code, or ""
// for a preview before one exists (a placeholder of the same length keeps
// the count exact).
func (s *Service) post(ctx context.Context, st *models.Story, channel, code string) (Post, error) {
	if code == "" {
		code = strings.Repeat("x", codeLen)
	}
	text := stories.Copy(st)[channel]
	if strings.TrimSpace(text) == "" {
		text = st.Summary
	}
	p := Post{StoryID: st.ID, Channel: channel, Title: st.Title, Copy: text, Link: s.publicURL + "/s/" + code, Revision: st.Revision}
	var assets []models.MediaAsset
	if err := s.db.WithContext(ctx).Where("owner_type = ? AND owner_id = ? AND kind = ?", models.OwnerStory, st.ID, "image").Order("created_at, id").Find(&assets).Error; err != nil {
		return p, err
	}
	want := Rules[channel].Rendition
	for _, a := range assets {
		var r models.MediaRendition
		if err := s.db.WithContext(ctx).Where("asset_id = ? AND name = ?", a.ID, want).Limit(1).Find(&r).Error; err != nil {
			return p, err
		}
		if r.AssetID == "" {
			continue // renditions not made yet: send what is ready
		}
		p.Media = append(p.Media, MediaRef{AssetID: a.ID, Rendition: want, Alt: a.AltText, Width: r.Width, Height: r.Height})
	}
	return p, nil
}

// Previews formats every approved channel of story id as it would be sent.
func (s *Service) Previews(ctx context.Context, id string) ([]Preview, error) {
	st, err := s.stories.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	chans, _, err := s.Approved(ctx, st)
	if err != nil {
		return nil, err
	}
	return s.previews(ctx, st, chans)
}

// ReviewPreviews formats every social channel the story is written for, as
// the legal reviewer sees them before deciding which to approve.
func (s *Service) ReviewPreviews(ctx context.Context, st *models.Story) ([]Preview, error) {
	var chans []string
	for _, c := range Social() {
		if slices.Contains(st.Channels, c.Key) {
			chans = append(chans, c.Key)
		}
	}
	return s.previews(ctx, st, chans)
}

func (s *Service) previews(ctx context.Context, st *models.Story, chans []string) ([]Preview, error) {
	var out []Preview
	for _, ch := range chans {
		acct, err := s.account(ctx, ch)
		if err != nil {
			return nil, err
		}
		code, err := s.existingCode(ctx, st.ID, ch)
		if err != nil {
			return nil, err
		}
		p, err := s.post(ctx, st, ch, code)
		if err != nil {
			return nil, err
		}
		pv := Preview{Channel: ch, Label: channels.Label(ch), Method: acct.Method}
		pv.Post, err = s.adapters[acct.Method].Format(ctx, acct, p)
		var tl *TooLongError
		var rf *RefusedError
		switch {
		case errors.As(err, &tl) || errors.As(err, &rf):
			pv.Refusal = err.Error()
		case err != nil:
			return nil, err
		}
		out = append(out, pv)
	}
	return out, nil
}

func mediaIDs(p Post) []string {
	var ids []string
	for _, m := range p.Media {
		ids = append(ids, m.AssetID)
	}
	return ids
}
