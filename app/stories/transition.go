package stories

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// MaxNote is the longest reason a transition may carry.
const MaxNote = 1000

// Available lists the transitions a may make on st now (the story page's
// buttons); conditions are checked when one is attempted.
func (s *Service) Available(a Actor, st *models.Story) []workflow.Transition {
	return s.flow.Available(a, facts(st, 0))
}

func facts(st *models.Story, unacked int) workflow.Story {
	return workflow.Story{ID: st.ID, Stage: workflow.Stage(st.Stage), Revision: st.Revision, AuthorIDs: st.OwnerIDs(), Channels: st.Channels, UnacknowledgedPHI: unacked}
}

// Transition moves story id to stage `to` if the workflow table lets a do so
// now. revision, when not 0, is the revision the person was looking at: if
// the story changed since, nothing happens and they are told to reload.
// Stored with the actor, time and optional note in story_events and the
// audit log.
//
// Moving to approved this way approves every channel of the story; Approve
// lets a reviewer choose a subset and a publish-not-before time.
func (s *Service) Transition(ctx context.Context, a Actor, id string, to workflow.Stage, note string, revision int) (*models.Story, error) {
	return s.transition(ctx, a, id, to, note, revision, nil)
}

func (s *Service) transition(ctx context.Context, a Actor, id string, to workflow.Stage, note string, revision int, approval *ApprovalInput) (*models.Story, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxNote {
		return nil, apperr.New(http.StatusUnprocessableEntity, "The note must be at most 1000 characters.")
	}
	var out *models.Story
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if revision != 0 && revision != cur.Revision {
			stale := s.checkFresh(tx, cur, revision)
			return apperr.Wrap(http.StatusConflict, strings.Replace(stale.Error(), "Your text is kept below; compare the changes, then save again to replace theirs.", "Reload the story and check the changes before moving it on.", 1), stale)
		}
		unacked, noAlt := 0, int64(0)
		if to == workflow.Approved {
			scans, err := s.scan(tx, cur)
			if err != nil {
				return err
			}
			unacked = Unacknowledged(scans)
			if err := tx.Model(&models.MediaAsset{}).Where("owner_type = ? AND owner_id = ? AND kind = ? AND alt_text = ''", models.OwnerStory, cur.ID, "image").Count(&noAlt).Error; err != nil {
				return err
			}
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		f := facts(cur, unacked)
		f.PhotosWithoutAlt = int(noAlt)
		if to == workflow.Approved {
			if approval == nil {
				approval = &ApprovalInput{Channels: cur.Channels}
			}
			if f.Channels, err = checkApproval(cur, approval, now); err != nil {
				return err
			}
		}
		if to == workflow.Published {
			ap, err := approvalOf(tx, cur.ID)
			if err != nil {
				return err
			}
			if ap != nil {
				f.NotBefore = ap.NotBefore
			}
		}
		t, err := s.flow.Check(ctx, a, f, to)
		if err != nil {
			return err
		}
		if t.NeedsNote != "" && note == "" {
			return apperr.New(http.StatusUnprocessableEntity, t.NeedsNote)
		}
		q := tx.Model(&models.Story{}).Where("id = ? AND stage = ? AND revision = ?", id, cur.Stage, cur.Revision).Updates(map[string]any{"stage": string(to), "updated_at": now})
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected == 0 {
			return apperr.New(http.StatusConflict, "Someone else changed this story at the same moment. Reload it and try again.")
		}
		from := workflow.Stage(cur.Stage)
		cur.Stage, cur.UpdatedAt = string(to), now
		if err := addEvent(tx, cur, a.UserID, "transition", from, to, note, now); err != nil {
			return err
		}
		details := map[string]any{"from": from, "to": to, "revision": cur.Revision}
		if note != "" {
			details["note"] = true // the note itself may name people; it stays in story_events
		}
		if to == workflow.Approved {
			ap, err := s.recordApproval(tx, a, cur, f.Channels, approval.NotBefore, now)
			if err != nil {
				return err
			}
			details["approval_id"], details["channels"] = ap.ID, ap.Channels
			if ap.NotBefore != nil {
				details["not_before"] = ap.NotBefore
			}
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "story.transition", ObjectType: "story", ObjectID: id, Details: details}); err != nil {
			return err
		}
		out = cur
		return s.hooks.Transitioned(ctx, tx, workflow.TransitionEvent{StoryID: id, From: from, To: to, Revision: cur.Revision, ActorID: a.UserID, Note: note})
	})
	return out, err
}
