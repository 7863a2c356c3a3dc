// Package handoff tells the next people in line when a story changes hands:
// reviewers when it is ready for review, the author when changes are
// requested or it is published or archived, publishers when it is approved.
// It is a workflow hook, so the notice is written in the same transaction as
// the transition it announces. Each notice is also emailed, through the job
// queue so a slow or absent mail server never holds up the transition; the
// email names no story or patient, only a link to sign in and see it.
package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
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

// JobMail is the job kind that emails one hand-off notice.
const JobMail = "handoff.mail"

// Notifier implements workflow.Hooks. With Jobs set, each notice is also
// queued for email; Register handles those jobs.
type Notifier struct {
	Jobs      *jobs.Queue
	Mail      mail.Sender
	DB        *gorm.DB
	PublicURL string
}

// Transitioned notifies the people who act next.
func (n Notifier) Transitioned(ctx context.Context, tx *gorm.DB, ev workflow.TransitionEvent) error {
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
		row := models.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: u, Kind: kind, ActorID: ev.ActorID, StoryID: ev.StoryID, CreatedAt: now}
		if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
			return err
		}
		if n.Jobs != nil {
			if _, err := n.Jobs.Enqueue(ctx, tx, JobMail, mailJob{NotificationID: row.ID}, jobs.Options{Key: JobMail + ":" + row.ID}); err != nil {
				return err
			}
		}
	}
	return nil
}

type mailJob struct {
	NotificationID string `json:"notification_id"`
}

// Register lets the queue run hand-off emails.
func (n Notifier) Register(q *jobs.Queue) { q.Handle(JobMail, n.HandleMail) }

// HandleMail emails one notice to its recipient, unless it has been read
// already or the account is disabled. The message says what happened and
// links to the story; the story's title and the patient stay in Storykeep.
func (n Notifier) HandleMail(ctx context.Context, job *models.Job) error {
	var j mailJob
	if err := jobs.Decode(job, &j); err != nil {
		return err
	}
	var no models.Notification
	if err := n.DB.WithContext(ctx).Where("id = ?", j.NotificationID).Take(&no).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return jobs.Permanent(err)
		}
		return err
	}
	var u models.User
	if err := n.DB.WithContext(ctx).Where("id = ?", no.UserID).Take(&u).Error; err != nil {
		return err
	}
	if no.ReadAt != nil || u.DisabledAt != nil || u.Email == "" {
		return nil
	}
	link := n.PublicURL + "/stories/" + no.StoryID
	if no.Kind == KindReview {
		link += "/review"
	}
	text := fmt.Sprintf("Hello %s,\n\n%s.\n\nOpen it in Storykeep (you will be asked to sign in):\n%s\n\nThis email leaves out the story and the patient on purpose; they stay in Storykeep.\nYour inbox in Storykeep lists every notice: %s/inbox\n",
		u.Name, Label(no.Kind), link, n.PublicURL)
	return n.Mail.Send(ctx, mail.Message{To: u.Email, Subject: "Storykeep: " + Label(no.Kind), Text: text})
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
