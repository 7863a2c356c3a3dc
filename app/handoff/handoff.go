// Package handoff tells the next people in line when a story changes hands:
// reviewers when it is ready for review, the author when changes are
// requested or it is published or archived, publishers when it is approved.
// It is a workflow hook, so the notice is written in the same transaction as
// the transition it announces.
package handoff

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Notification kinds, shown in the inbox.
const (
	KindReview    = "story.review_requested"
	KindChanges   = "story.changes_requested"
	KindApproved  = "story.approved"
	KindPublished = "story.published"
	KindArchived  = "story.archived"
)

var labels = map[string]string{
	KindReview:    "A story is ready for your review",
	KindChanges:   "A reviewer asked for changes to your story",
	KindApproved:  "A story is approved and ready to publish",
	KindPublished: "Your story is published",
	KindArchived:  "Your story was archived",
}

// Label is the inbox line for a hand-off notice, or "" for other kinds.
func Label(kind string) string { return labels[kind] }

// Notifier implements workflow.Hooks.
type Notifier struct{}

// Transitioned notifies the people who act next.
func (Notifier) Transitioned(ctx context.Context, tx *gorm.DB, ev workflow.TransitionEvent) error {
	var (
		kind  string
		users []string
		err   error
	)
	switch ev.To {
	case workflow.InReview:
		kind = KindReview
		users, err = role(tx, models.RoleReviewer)
	case workflow.ChangesRequested:
		kind = KindChanges
		users, err = authors(tx, ev.StoryID)
	case workflow.Approved:
		kind = KindApproved
		users, err = role(tx, models.RolePublisher)
	case workflow.Published:
		kind = KindPublished
		users, err = authors(tx, ev.StoryID)
	case workflow.Archived:
		kind = KindArchived
		users, err = authors(tx, ev.StoryID)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, u := range users {
		if u == ev.ActorID {
			continue // nobody needs telling what they just did
		}
		n := models.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: u, Kind: kind, ActorID: ev.ActorID, StoryID: ev.StoryID, CreatedAt: now}
		if err := tx.WithContext(ctx).Create(&n).Error; err != nil {
			return err
		}
	}
	return nil
}

// ConsentSuperseded is not a hand-off; the consent capability notifies.
func (Notifier) ConsentSuperseded(context.Context, *gorm.DB, workflow.ConsentSuperseded) error {
	return nil
}

func role(tx *gorm.DB, r string) ([]string, error) {
	var ids []string
	err := tx.Model(&models.User{}).Where("role = ? AND disabled_at IS NULL", r).Order("id").Pluck("id", &ids).Error
	return ids, err
}

func authors(tx *gorm.DB, storyID string) ([]string, error) {
	var st models.Story
	if err := tx.Select("id, owner_id").Where("id = ?", storyID).Take(&st).Error; err != nil {
		return nil, err
	}
	var ids []string
	if err := tx.Model(&models.StoryCollaborator{}).Where("story_id = ?", storyID).Pluck("user_id", &ids).Error; err != nil {
		return nil, err
	}
	return append([]string{st.OwnerID}, ids...), nil
}
