package consent

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// ErrAlreadyRevoked answers a second revocation: nothing changes.
var ErrAlreadyRevoked = apperr.New(http.StatusConflict, "This authorization was already revoked.")

// FindByRevokeToken returns the record a revocation link belongs to.
func (s *Service) FindByRevokeToken(ctx context.Context, token string) (*models.ConsentRecord, error) {
	if !ValidTokenShape(token) {
		return nil, ErrLinkNotUsable
	}
	var rec models.ConsentRecord
	sub := s.db.WithContext(ctx).Model(&models.ConsentRevokeToken{}).Select("record_id").Where("token_hash = ?", HashToken(token))
	if err := s.db.WithContext(ctx).Where("id IN (?)", sub).Limit(1).Find(&rec).Error; err != nil {
		return nil, err
	}
	if rec.ID == "" {
		return nil, ErrLinkNotUsable
	}
	return &rec, nil
}

// withdrawable are the stages from which an ended consent withdraws the story.
var withdrawable = []workflow.Stage{workflow.Consented, workflow.InReview, workflow.ChangesRequested, workflow.Approved, workflow.Published}

// RevokedEvent is the payload of the "consent.revoked" job: what the export
// capability must take down.
type RevokedEvent struct {
	RecordID string   `json:"record_id"`
	StoryID  string   `json:"story_id"`
	Channels []string `json:"channels"`
	Reason   string   `json:"reason"` // revoked or expired
}

// Revoke ends the record at once at the patient's written request
// (164.508(b)(5)): the story is withdrawn, takedowns are queued, staff are
// told, and what was already published is kept as "acted in reliance".
func (s *Service) Revoke(ctx context.Context, rec *models.ConsentRecord, reason, ip string) error {
	ctx = patientCtx(ctx, rec.RequestID, ip)
	if rec.Status == models.RecordRevoked {
		return ErrAlreadyRevoked
	}
	return s.end(ctx, rec, models.RecordRevoked, truncate(strings.TrimSpace(reason), 1000), NotifyRevoked)
}

// end moves a record to revoked or expired, withdrawing the story when it
// is past consent, in one transaction.
func (s *Service) end(ctx context.Context, rec *models.ConsentRecord, status, reason, notify string) error {
	return s.endWith(ctx, rec, status, reason, notify, nil)
}

// endWith is end with extra work in the same transaction (a written
// revocation stores its letter's row and audit entry there).
func (s *Service) endWith(ctx context.Context, rec *models.ConsentRecord, status, reason, notify string, extra func(tx *gorm.DB) error) error {
	st, err := s.Stories.Get(ctx, rec.StoryID)
	if err != nil {
		return err
	}
	stage := workflow.Stage(st.Stage)
	reliance, _ := json.Marshal(map[string]any{"stage": stage, "published": stage == workflow.Published, "revision": st.Revision,
		"channels": parseList(rec.Channels)})
	fn := func(tx *gorm.DB) error {
		now := s.now()
		upd := map[string]any{"status": status, "ended_at": now, "acted_in_reliance": string(reliance)}
		if status == models.RecordRevoked {
			upd["revoked_at"], upd["revoke_reason"] = now, reason
		}
		q := tx.Model(&models.ConsentRecord{}).Where("id = ? AND status IN ?", rec.ID, []string{models.RecordValid, models.RecordSuperseded, models.RecordExpired}).Updates(upd)
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected == 0 {
			return ErrAlreadyRevoked
		}
		rec.Status = status
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent." + status, ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"story_id": rec.StoryID, "stage": stage, "published": stage == workflow.Published, "reason_given": reason != ""}}); err != nil {
			return err
		}
		var actors []string
		if err := tx.Model(&models.ConsentRequest{}).Where("id = ?", rec.RequestID).Pluck("created_by", &actors).Error; err != nil {
			return err
		}
		actor := ""
		if len(actors) > 0 {
			actor = actors[0]
		}
		if err := s.notifyStaff(ctx, tx, rec.StoryID, actor, notify); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		// The patient hears too: a dated receipt of a revocation, a notice
		// when the consent ran out (notices.go).
		switch status {
		case models.RecordRevoked:
			if err := s.NotifyPatient(ctx, tx, rec, NoticeRevoked, 0); err != nil {
				return err
			}
		case models.RecordExpired:
			// A lapse at majority is told by its own renewal request
			// (majority.go), addressed to the new adult.
			if notify == NotifyMajorityLapsed {
				break
			}
			if err := s.NotifyPatient(ctx, tx, rec, NoticeExpired, 0); err != nil {
				return err
			}
		}
		if _, err := s.jobs.Enqueue(ctx, tx, JobRevoked, RevokedEvent{RecordID: rec.ID, StoryID: rec.StoryID, Channels: parseList(rec.Channels), Reason: status},
			jobs.Options{Key: JobRevoked + ":" + rec.ID}); err != nil {
			return err
		}
		// The end is known now: extend the evidence's write-once date to it.
		return s.lockEvidence(ctx, tx, rec.ID, status)
	}
	if slices.Contains(withdrawable, stage) && (rec.Status == models.RecordValid) {
		return s.transitionWith(ctx, systemActor, rec.StoryID, workflow.Withdrawn, "The patient's consent ended ("+status+").", fn)
	}
	return s.db.WithContext(ctx).Transaction(fn)
}

// Takedowner removes a story's social posts; the export capability is one.
type Takedowner interface {
	Takedown(ctx context.Context, storyID, reason string) error
}

// HandleRevoked takes a story's posts down after its consent was revoked or
// expired (the public page is already gone: the story is withdrawn). A
// failure is retried by the job queue; Takedown is safe to repeat.
func (s *Service) HandleRevoked(ctx context.Context, job *models.Job) error {
	var ev RevokedEvent
	if err := jobs.Decode(job, &ev); err != nil {
		return err
	}
	if s.Takedown == nil {
		s.log.WarnContext(ctx, "consent ended but no takedown is configured", "record_id", ev.RecordID, "story_id", ev.StoryID)
		return nil
	}
	return s.Takedown.Takedown(ctx, ev.StoryID, "consent "+ev.Reason)
}

// StoryCertificate returns the certificate of the story's newest signed
// consent, for the export bundle (name "" when there is none yet).
func (s *Service) StoryCertificate(ctx context.Context, storyID string) (string, []byte, error) {
	var rec models.ConsentRecord
	err := s.read.WithContext(ctx).Where("story_id = ? AND certificate_key <> ''", storyID).Order("signed_at DESC").Limit(1).Find(&rec).Error
	if err != nil || rec.ID == "" {
		return "", nil, err
	}
	pdf, err := s.StaffEvidenceCopy(ctx, &rec)
	return "consent-certificate-" + rec.ID + "-staff-copy.pdf", pdf, err
}
