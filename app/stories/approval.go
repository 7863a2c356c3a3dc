package stories

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// ApprovalInput is a reviewer's decision to approve: which of the story's
// consented channels, and optionally not before when.
type ApprovalInput struct {
	Channels  []string
	NotBefore *time.Time
}

// Approve moves story id from legal review to approved for in.Channels, a
// non-empty subset of the story's channels that the patient's consent
// covers, and records the approval with its optional publish-not-before
// time. Nothing changes when any of it is wrong.
func (s *Service) Approve(ctx context.Context, a Actor, id string, revision int, note string, in ApprovalInput) (*models.Story, error) {
	return s.transition(ctx, a, id, workflow.Approved, note, revision, &in)
}

// checkApproval validates in against the story and returns the channels in
// screen order.
func checkApproval(st *models.Story, in *ApprovalInput, now time.Time) ([]string, error) {
	if len(in.Channels) == 0 {
		return nil, apperr.New(http.StatusUnprocessableEntity, "Choose at least one channel to approve the story for.")
	}
	for _, c := range in.Channels {
		if !slices.Contains(st.Channels, c) {
			return nil, apperr.New(http.StatusUnprocessableEntity, "\""+c+"\" is not one of this story's channels ("+strings.Join(channels.Labels(st.Channels), ", ")+"); approve only channels the story was written and consented for.")
		}
	}
	if in.NotBefore != nil {
		t := in.NotBefore.UTC().Truncate(time.Minute)
		if !t.After(now) {
			return nil, apperr.New(http.StatusUnprocessableEntity, "The publish-not-before time "+t.Format("2006-01-02 15:04")+" UTC has already passed. Leave it empty to allow publishing at once, or choose a later time.")
		}
		in.NotBefore = &t
	}
	var out []string
	for _, c := range st.Channels {
		if slices.Contains(in.Channels, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Approval returns the approval of story id's current revision, or nil if
// that revision was never approved. Callers also check the stage: a story
// withdrawn or archived after approval keeps its approval row.
func (s *Service) Approval(ctx context.Context, id string) (*models.StoryApproval, error) {
	return approvalOf(s.db.WithContext(ctx), id)
}

// ApprovalIn is Approval read through tx, for hooks running inside a
// transition (SQLite has one connection).
func ApprovalIn(tx *gorm.DB, id string) (*models.StoryApproval, error) { return approvalOf(tx, id) }

func approvalOf(db *gorm.DB, id string) (*models.StoryApproval, error) {
	// One round trip: the channels come along as one comma-separated
	// column (channel names have no comma). Read on every delivery and
	// public page fill, twice (the disclosure and the gate), a second query
	// for the channels was a tenth of a delivery's statements.
	agg := "group_concat(c.channel, ',')"
	if db.Dialector.Name() == "postgres" {
		agg = "string_agg(c.channel, ',')"
	}
	var row struct {
		models.StoryApproval `gorm:"embedded"`
		ChannelList          *string
	}
	err := db.Table("story_approvals AS a").
		Select("a.*, (SELECT "+agg+" FROM story_approval_channels c WHERE c.approval_id = a.id) AS channel_list").
		Joins("JOIN stories s ON s.id = a.story_id AND s.revision = a.revision").
		Where("a.story_id = ?", id).Order("a.created_at DESC, a.id DESC").Limit(1).Find(&row).Error
	if err != nil || row.ID == "" {
		return nil, err
	}
	ap := row.StoryApproval
	var chans []string
	if row.ChannelList != nil && *row.ChannelList != "" {
		chans = strings.Split(*row.ChannelList, ",")
	}
	ap.Channels = orderChannels(chans)
	return &ap, nil
}

func (s *Service) recordApproval(tx *gorm.DB, a Actor, st *models.Story, chans []string, notBefore *time.Time, now time.Time) (*models.StoryApproval, error) {
	ap := &models.StoryApproval{ID: newID(), StoryID: st.ID, Revision: st.Revision, ReviewerID: a.UserID, NotBefore: notBefore, CreatedAt: now, Channels: chans}
	if err := tx.Create(ap).Error; err != nil {
		return nil, err
	}
	rows := make([]models.StoryApprovalChannel, len(chans))
	for i, c := range chans {
		rows[i] = models.StoryApprovalChannel{ApprovalID: ap.ID, Channel: c}
	}
	return ap, tx.Create(&rows).Error
}
