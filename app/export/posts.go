package export

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/disclosure"
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

// source is where posts come from: the disclosure package, asking this
// service's gate.
func (s *Service) source() *disclosure.Source {
	return &disclosure.Source{DB: s.db, Gate: s.Gate, PublicURL: s.publicURL}
}

// rules are the channel needs the disclosure package must know.
func rules(chans ...string) map[string]disclosure.ChannelRule {
	out := map[string]disclosure.ChannelRule{}
	for _, ch := range chans {
		r := Rules[ch]
		out[ch] = disclosure.ChannelRule{Rendition: r.Rendition, MaxMedia: r.MaxMedia, NeedsPhoto: r.NeedsPhoto}
	}
	return out
}

// post builds channel's post of st through the disclosure package: the
// patient's name usage applied to copy, title, summary fallback, alt text
// and captions, only the photos the patient allows on channel, and the
// fail-closed name check. refusal says why the channel may not go out now
// (gate, a withheld name, no photo left where one is needed). With preview
// set the gate is skipped (the reviewer's view before approval). code is
// the short link's code, or "" for a placeholder of the same length.
func (s *Service) post(ctx context.Context, st *models.Story, channel, code string, preview bool) (p Post, names *disclosure.Names, refusal string, err error) {
	d, err := s.source().For(ctx, disclosure.Request{StoryID: st.ID, Story: st, Rules: rules(channel), SkipGate: preview})
	if err != nil {
		return p, nil, "", err
	}
	if why, ok := d.Refused[channel]; ok {
		return p, d.Names, why, nil
	}
	dp := d.Posts[channel]
	if dp == nil {
		return p, d.Names, "This channel may not be posted now.", nil
	}
	return postOf(d.StoryID, dp, code, s.publicURL), d.Names, "", nil
}

// postOf serialises a disclosure post into the adapters' Post.
func postOf(storyID string, dp *disclosure.Post, code, publicURL string) Post {
	link := dp.Link
	if code != "" {
		link = publicURL + "/s/" + code
	}
	p := Post{StoryID: storyID, Channel: dp.Channel, Title: dp.Title, Copy: dp.Copy, Link: link, Revision: dp.Revision}
	want := Rules[dp.Channel].Rendition
	for _, ph := range dp.Photos {
		r := ph.Renditions[want]
		p.Media = append(p.Media, MediaRef{AssetID: ph.AssetID, Rendition: want, Alt: ph.Alt, Caption: ph.Caption, Width: r.Width, Height: r.Height})
	}
	return p
}

// checkFormatted is the last check before a post leaves: its final text,
// title, link and every alt text and caption must not name the patient
// beyond the consent.
func checkFormatted(names *disclosure.Names, f Formatted) error {
	if names == nil {
		return nil
	}
	fields := [][2]string{{"post text", f.Text}, {"post title", f.Title}, {"link", f.Link}}
	for i, m := range f.Media {
		fields = append(fields, [2]string{"alt text of photo " + strconv.Itoa(i+1), m.Alt}, [2]string{"caption of photo " + strconv.Itoa(i+1), m.Caption})
	}
	for _, fl := range fields {
		if err := names.Check(fl[0], fl[1]); err != nil {
			return err
		}
	}
	return nil
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
	return s.previews(ctx, st, chans, false)
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
	return s.previews(ctx, st, chans, true)
}

func (s *Service) previews(ctx context.Context, st *models.Story, chans []string, review bool) ([]Preview, error) {
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
		p, names, refusal, err := s.post(ctx, st, ch, code, review)
		if err != nil {
			return nil, err
		}
		pv := Preview{Channel: ch, Label: channels.Label(ch), Method: acct.Method}
		if refusal != "" {
			pv.Refusal = refusal
			out = append(out, pv)
			continue
		}
		pv.Post, err = s.adapters[acct.Method].Format(ctx, acct, p)
		if err == nil {
			err = checkFormatted(names, pv.Post)
		}
		var tl *TooLongError
		var rf *RefusedError
		switch {
		case errors.As(err, &tl) || errors.As(err, &rf) || disclosure.IsLeak(err):
			pv.Refusal = err.Error()
		case err != nil:
			return nil, err
		}
		out = append(out, pv)
	}
	return out, nil
}
