package export

import (
	"context"
	"errors"
	"net/http"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

type deleteJob struct {
	DeliveryID string `json:"delivery_id"`
}

// takedownAttempts keeps a failing takedown trying for days (the backoff
// grows to an hour): a post must not stay up because the network refused
// once, e.g. for expired credentials the admin has yet to renew.
const takedownAttempts = 100

// Takedown stops story id everywhere: queued deliveries are cancelled (their
// jobs too), sent posts get a delete job where the method can delete, and
// export-bundle posts are recorded as to be removed by hand. The consent
// capability calls it when a consent is revoked or expires; publishers call
// it from the publication panel. It is safe to call again.
func (s *Service) Takedown(ctx context.Context, storyID, reason string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ds []models.Delivery
		if err := tx.Where("story_id = ? AND state IN ?", storyID, []string{models.DeliveryQueued, models.DeliverySending, models.DeliverySent, models.DeliveryFailed}).Find(&ds).Error; err != nil {
			return err
		}
		for i := range ds {
			if err := s.takedownOne(ctx, tx, &ds[i], reason); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "story.takedown", ObjectType: "story", ObjectID: storyID,
			Details: map[string]any{"deliveries": len(ds), "reason": reason}})
	})
}

func (s *Service) takedownOne(ctx context.Context, tx *gorm.DB, d *models.Delivery, reason string) error {
	now := s.now()
	upd := map[string]any{"takedown_reason": reason, "updated_at": now}
	switch {
	case d.State == models.DeliverySending:
		// In flight: the attempt finishes, then sent() or fail() sees the
		// reason and deletes or cancels.
		if err := s.jobs.Cancel(ctx, tx, d.JobID); err != nil {
			return err
		}
	case d.State == models.DeliveryQueued || d.State == models.DeliveryFailed:
		if err := s.jobs.Cancel(ctx, tx, d.JobID); err != nil {
			return err
		}
		upd["state"], upd["last_error"] = models.DeliveryCancelled, "Taken down before sending: "+reason
	case d.Method == models.MethodBundle:
		upd["state"], upd["last_error"] = models.DeliveryDeleted, "Posted by hand from the export bundle: remove it by hand on "+channels.Label(d.Channel)+"."
	default:
		j, err := s.jobs.Enqueue(ctx, tx, JobDelete, deleteJob{DeliveryID: d.ID}, jobs.Options{Key: JobDelete + ":" + d.ID, MaxAttempts: takedownAttempts})
		if err != nil {
			return err
		}
		// Asked again (the Takedown button, another revocation): a delete
		// that gave up or waits out a backoff runs now.
		if j.Status == models.JobDead || j.Status == models.JobDone || (j.Status == models.JobPending && j.Attempts > 0) {
			if err := s.jobs.Requeue(ctx, tx, j.ID); err != nil {
				return err
			}
		}
		upd["delete_job_id"] = j.ID
	}
	if err := tx.Model(d).Updates(upd).Error; err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.takedown", ObjectType: "story", ObjectID: d.StoryID,
		Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "state": d.State, "method": d.Method}})
}

// HandleDelete removes a sent post from its network. A post already gone
// (404/410) counts as deleted.
func (s *Service) HandleDelete(ctx context.Context, job *models.Job) error {
	ctx = audit.WithActor(ctx, audit.System)
	var p deleteJob
	if err := jobs.Decode(job, &p); err != nil {
		return err
	}
	d, err := s.Delivery(ctx, p.DeliveryID)
	if err != nil {
		return jobs.Permanent(err)
	}
	if d.State != models.DeliverySent || d.TakedownReason == "" {
		return nil // removed (maybe by hand) or not to be taken down
	}
	acct, err := s.account(ctx, d.Channel)
	if err != nil {
		return err
	}
	if acct.Method != d.Method {
		msg := "The " + channels.Label(d.Channel) + " account changed since this was posted; remove the post by hand, then confirm it on the publication page."
		s.db.WithContext(ctx).Model(d).Updates(map[string]any{"last_error": "Takedown: " + msg, "updated_at": s.now()})
		return jobs.Permanent(&RefusedError{Msg: msg})
	}
	acct.Key, acct.StoryID = idemKey(d), d.StoryID
	note := ""
	err = s.adapters[d.Method].Delete(ctx, acct, ExternalRef{ID: d.ExternalID, URL: d.ExternalURL})
	if isGone(err) {
		err, note = nil, "already gone"
	}
	if err != nil {
		// Not final, whatever the network answered (a 401 for a revoked
		// app password included): the post is still up, so the delivery
		// stays open and listed under "Takedowns not done" until a retry
		// succeeds or a person confirms removing it by hand.
		s.db.WithContext(ctx).Model(d).Updates(map[string]any{"last_error": "Takedown: " + err.Error(), "updated_at": s.now()})
		s.log.Error("takedown failed; the post is still up", "delivery_id", d.ID, "story_id", d.StoryID, "channel", d.Channel, "attempt", job.Attempts, "err", err)
		var perm *jobs.PermanentError
		if errors.As(err, &perm) {
			err = perm.Err
		}
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(d).Updates(map[string]any{"state": models.DeliveryDeleted, "last_error": "", "updated_at": s.now()}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.deleted", ObjectType: "story", ObjectID: d.StoryID,
			Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "note": note}})
	})
}

// OpenTakedowns lists sent posts that are to be taken down and are not yet:
// their delete keeps failing, or must be done by hand. They stay listed
// (Admin → Jobs, the publication page) until deleted or confirmed.
func (s *Service) OpenTakedowns(ctx context.Context) ([]models.Delivery, error) {
	var ds []models.Delivery
	return ds, s.db.WithContext(ctx).Where("state = ? AND takedown_reason <> ''", models.DeliverySent).Order("updated_at").Limit(200).Find(&ds).Error
}

// ConfirmRemovedByHand closes an open takedown that a person has done on
// the network themselves: the delivery becomes deleted, its delete job is
// cancelled, and who confirmed it is audited.
func (s *Service) ConfirmRemovedByHand(ctx context.Context, id, note string) (*models.Delivery, error) {
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.State != models.DeliverySent || d.TakedownReason == "" {
		return d, apperr.New(http.StatusConflict, "Only a post waiting to be taken down can be confirmed as removed.")
	}
	return d, s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if d.DeleteJobID != "" {
			if err := s.jobs.Cancel(ctx, tx, d.DeleteJobID); err != nil {
				return err
			}
		}
		res := tx.Model(&models.Delivery{}).Where("id = ? AND state = ?", d.ID, models.DeliverySent).
			Updates(map[string]any{"state": models.DeliveryDeleted, "last_error": "Removed by hand on " + channels.Label(d.Channel) + " (confirmed).", "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(http.StatusConflict, "This post changed meanwhile; reload the page.")
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.removed_by_hand", ObjectType: "story", ObjectID: d.StoryID,
			Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "note": note}})
	})
}
