package export

import (
	"context"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

type deleteJob struct {
	DeliveryID string `json:"delivery_id"`
}

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
		j, err := s.jobs.Enqueue(ctx, tx, JobDelete, deleteJob{DeliveryID: d.ID}, jobs.Options{Key: JobDelete + ":" + d.ID})
		if err != nil {
			return err
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
	if d.State != models.DeliverySent {
		return nil
	}
	acct, err := s.account(ctx, d.Channel)
	if err != nil {
		return err
	}
	if acct.Method != d.Method {
		return jobs.Permanent(&RefusedError{Msg: "The " + channels.Label(d.Channel) + " account changed since this was posted; remove the post by hand."})
	}
	acct.Key, acct.StoryID = idemKey(d), d.StoryID
	note := ""
	err = s.adapters[d.Method].Delete(ctx, acct, ExternalRef{ID: d.ExternalID, URL: d.ExternalURL})
	if isGone(err) {
		err, note = nil, "already gone"
	}
	if err != nil {
		s.db.WithContext(ctx).Model(d).Updates(map[string]any{"last_error": "Takedown: " + err.Error(), "updated_at": s.now()})
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
