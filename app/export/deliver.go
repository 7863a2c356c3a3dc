package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// HandleDeliver sends one delivery. It re-checks everything at send time —
// the story is still publishable at the scheduled revision, and the consent
// gate allows this channel and these media — because consent can end
// between scheduling and sending. A refusal cancels the delivery, audited;
// it is never sent.
func (s *Service) HandleDeliver(ctx context.Context, job *models.Job) error {
	ctx = audit.WithActor(ctx, audit.System)
	var p deliveryJob
	if err := jobs.Decode(job, &p); err != nil {
		return err
	}
	d, err := s.Delivery(ctx, p.DeliveryID)
	if err != nil {
		return jobs.Permanent(err)
	}
	if d.State != models.DeliveryQueued && d.State != models.DeliverySending {
		return nil // cancelled or done meanwhile
	}
	st, err := s.stories.Get(ctx, d.StoryID)
	if err != nil {
		return jobs.Permanent(err)
	}
	if !Publishable(st) || st.Revision != d.Revision {
		return s.refuse(ctx, d, "The story is no longer approved at revision "+fmt.Sprint(d.Revision)+".")
	}
	acct, err := s.account(ctx, d.Channel)
	if err != nil {
		return s.fail(ctx, d, job, jobs.Permanent(err))
	}
	acct.Key, acct.StoryID = idemKey(d), d.StoryID
	post, names, refusal, err := s.post(ctx, st, d.Channel, "", false)
	if err != nil {
		return err
	}
	if refusal != "" {
		return s.refuse(ctx, d, refusal)
	}
	// The short link exists only once the gate has allowed the post.
	code, err := s.ensureCode(ctx, d.StoryID, d.Channel)
	if err != nil {
		return err
	}
	post.Link = s.publicURL + "/s/" + code
	ad := s.adapters[acct.Method]
	f, err := ad.Format(ctx, acct, post)
	if err != nil {
		return s.fail(ctx, d, job, jobs.Permanent(err))
	}
	if err := checkFormatted(names, f); err != nil {
		return s.refuse(ctx, d, err.Error())
	}
	files, err := s.mediaFiles(ctx, d, f.Media)
	if errors.Is(err, disclosure.ErrTampered) {
		return s.refuse(ctx, d, "A photo's stored bytes do not match the checksum recorded for it (audited as media.tampered).")
	}
	if err != nil {
		return s.fail(ctx, d, job, err)
	}
	if err := s.db.WithContext(ctx).Model(d).Updates(map[string]any{"state": models.DeliverySending, "method": acct.Method, "attempts": gorm.Expr("attempts + 1"), "updated_at": s.now()}).Error; err != nil {
		return err
	}
	ref, err := ad.Publish(ctx, acct, f, files)
	if err != nil {
		return s.fail(ctx, d, job, err)
	}
	if err := s.sent(ctx, d, acct.Method, ref); err != nil {
		return err
	}
	if st.Stage == string(workflow.Approved) {
		s.markPublished(ctx, d)
	}
	return nil
}

// markPublished moves a story still "approved" to "published" once a
// scheduled post has gone out (HandleDeliver asks only when the story was
// approved as the delivery began, not when already published). The post is
// out whatever happens here, so a refusal (another delivery got there
// first) is only logged: retrying the delivery would not post again. The publisher who scheduled the post is
// named as the one who published.
func (s *Service) markPublished(ctx context.Context, d *models.Delivery) {
	// Only the stage is needed: reading the whole story again (four
	// queries) was a tenth of a delivery's database round trips.
	var stage []string
	err := s.db.WithContext(ctx).Model(&models.Story{}).Where("id = ?", d.StoryID).Pluck("stage", &stage).Error
	if err == nil && len(stage) == 1 && stage[0] == string(workflow.Approved) {
		_, err = s.stories.Transition(ctx, workflow.Actor{UserID: d.CreatedBy, System: true}, d.StoryID, workflow.Published, "A scheduled post was sent.", 0)
	}
	if err != nil {
		s.log.Warn("story not marked published after a post", "story_id", d.StoryID, "error", err.Error())
	}
}

// sent records success; a takedown that arrived while sending queues the
// delete at once.
func (s *Service) sent(ctx context.Context, d *models.Delivery, method string, ref ExternalRef) error {
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The update hands back the takedown reason (RETURNING, on both
		// databases), so the common case needs no second read of the row.
		var got []models.Delivery
		if err := tx.Model(&got).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}, {Name: "takedown_reason"}}}).Where("id = ?", d.ID).
			Updates(map[string]any{"state": models.DeliverySent, "external_id": ref.ID, "external_url": ref.URL, "last_error": "", "sent_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("delivery %s: recorded as sent %d times", d.ID, len(got))
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.sent", ObjectType: "story", ObjectID: d.StoryID,
			Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "method": method, "external_id": ref.ID}}); err != nil {
			return err
		}
		if got[0].TakedownReason == "" {
			return nil
		}
		var cur models.Delivery
		if err := tx.Where("id = ?", d.ID).Take(&cur).Error; err != nil {
			return err
		}
		return s.takedownOne(ctx, tx, &cur, cur.TakedownReason)
	})
}

// refuse cancels a delivery the checks at send time refused.
func (s *Service) refuse(ctx context.Context, d *models.Delivery, reason string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(d).Updates(map[string]any{"state": models.DeliveryCancelled, "last_error": "Refused: " + reason, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.refused", ObjectType: "story", ObjectID: d.StoryID,
			Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "reason": reason}})
	})
}

// fail records a failed attempt and hands the error back to the queue:
// queued again while attempts remain, failed when it gives up.
func (s *Service) fail(ctx context.Context, d *models.Delivery, job *models.Job, cause error) error {
	var perm *jobs.PermanentError
	state := models.DeliveryQueued
	if errors.As(cause, &perm) || job.Attempts >= job.MaxAttempts {
		state = models.DeliveryFailed
	}
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur models.Delivery
		if err := tx.Where("id = ?", d.ID).Take(&cur).Error; err != nil {
			return err
		}
		if cur.TakedownReason != "" {
			state = models.DeliveryCancelled // taken down while sending: never retried
		}
		if err := tx.Model(d).Updates(map[string]any{"state": state, "last_error": msg, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		if state != models.DeliveryFailed {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.failed", ObjectType: "story", ObjectID: d.StoryID,
			Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "attempts": job.Attempts}})
	})
	return errors.Join(cause, err)
}

// mediaFiles opens each rendition and gives it a time-limited public URL
// for receivers that fetch media themselves.
func (s *Service) mediaFiles(ctx context.Context, d *models.Delivery, refs []MediaRef) ([]MediaFile, error) {
	var out []MediaFile
	for _, m := range refs {
		var r models.MediaRendition
		if err := s.db.WithContext(ctx).Where("asset_id = ? AND name = ?", m.AssetID, m.Rendition).Take(&r).Error; err != nil {
			return nil, err
		}
		rc, info, err := s.store.Open(ctx, r.StorageKey)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, 20<<20))
		rc.Close()
		if err != nil {
			return nil, err
		}
		if err := s.verifier.VerifyBytes(ctx, m.AssetID, r.StorageKey, r.SHA256, data); err != nil {
			return nil, err
		}
		ct := info.ContentType
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		u, err := s.MediaURL(d.ID, m.AssetID, m.Rendition)
		if err != nil {
			return nil, err
		}
		out = append(out, MediaFile{MediaRef: m, ContentType: ct, Data: data, URL: u})
	}
	return out, nil
}
