package export

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

type deliveryJob struct {
	DeliveryID string `json:"delivery_id"`
}

// Schedule creates a delivery and its job for each chosen channel of story
// id, at `at` (zero: now). A channel already scheduled for this revision is
// left as it is, so pressing "post now" twice posts once. Channels that
// would be refused (too long) are refused here too, before anything is
// queued. Posting now moves an approved story to published.
func (s *Service) Schedule(ctx context.Context, a workflow.Actor, id string, chans []string, at time.Time) ([]models.Delivery, error) {
	st, err := s.stories.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Publishable(st) {
		return nil, apperr.New(http.StatusConflict, "Only an approved or published story can be posted; this one is "+workflow.Stage(st.Stage).Label()+".")
	}
	if len(chans) == 0 {
		return nil, apperr.New(http.StatusUnprocessableEntity, "Choose at least one channel.")
	}
	approved, ap, err := s.Approved(ctx, st)
	if err != nil {
		return nil, err
	}
	// Checked here for form only (length, hashtags, names); the gate —
	// consent, chosen photos, a photo left where one is needed — is asked
	// when each delivery is sent, and a refusal then cancels it unsent.
	previews, err := s.previews(ctx, st, approved, true)
	if err != nil {
		return nil, err
	}
	for _, ch := range chans {
		if !slices.Contains(approved, ch) {
			return nil, apperr.New(http.StatusUnprocessableEntity, "Legal review did not approve the story for "+channels.Label(ch)+".")
		}
		for _, p := range previews {
			if p.Channel == ch && p.Refusal != "" {
				return nil, apperr.New(http.StatusUnprocessableEntity, p.Refusal)
			}
		}
	}
	now := s.now()
	if at.IsZero() || at.Before(now) {
		at = now
	}
	if ap.NotBefore != nil && at.Before(*ap.NotBefore) {
		return nil, apperr.New(http.StatusUnprocessableEntity, "Legal review approved publication from "+ap.NotBefore.UTC().Format("2006-01-02 15:04")+
			" UTC. Schedule the posts for that time or later.")
	}
	var out []models.Delivery
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, ch := range chans {
			d, err := s.scheduleOne(ctx, tx, a, st, ch, at)
			if err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.Stage == string(workflow.Approved) && !at.After(now.Add(time.Minute)) {
		if _, err := s.stories.Transition(ctx, a, id, workflow.Published, "Posted to "+fmt.Sprint(len(chans))+" channel(s).", 0); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Service) scheduleOne(ctx context.Context, tx *gorm.DB, a workflow.Actor, st *models.Story, ch string, at time.Time) (*models.Delivery, error) {
	acct, err := s.accountIn(tx, ch)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &models.Delivery{ID: newID(), StoryID: st.ID, Channel: ch, Method: acct.Method, Revision: st.Revision, State: models.DeliveryQueued,
		RunAt: at, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(d)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		// This revision already has a delivery to ch (a double click, or
		// posting again). Load it into a fresh struct: d's own new id would
		// be added to the WHERE clause and never match.
		var existing models.Delivery
		if err := tx.Where("story_id = ? AND channel = ? AND revision = ?", st.ID, ch, st.Revision).Take(&existing).Error; err != nil {
			return nil, err
		}
		return s.postAgain(ctx, tx, &existing, at)
	}
	j, err := s.jobs.Enqueue(ctx, tx, JobDeliver, deliveryJob{DeliveryID: d.ID}, jobs.Options{RunAt: at, Key: idemKey(d)})
	if err != nil {
		return nil, err
	}
	d.JobID = j.ID
	if err := tx.Model(d).Update("job_id", j.ID).Error; err != nil {
		return nil, err
	}
	return d, s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.schedule", ObjectType: "story", ObjectID: st.ID,
		Details: map[string]any{"delivery_id": d.ID, "channel": ch, "method": d.Method, "revision": d.Revision, "run_at": at}})
}

// postAgain answers a second post of one revision to one channel. Queued,
// sending, sent or failed: the existing delivery stands (a failed one has
// Retry). Cancelled before it was ever sent (refused at send time, or
// taken down while queued): it is queued again, since no receiver has seen
// its idempotency key. Deleted after being sent: receivers drop a repeated
// idempotency key, so posting again needs a new approved revision.
func (s *Service) postAgain(ctx context.Context, tx *gorm.DB, d *models.Delivery, at time.Time) (*models.Delivery, error) {
	switch {
	case d.State == models.DeliveryDeleted || (d.State == models.DeliveryCancelled && d.SentAt != nil):
		return nil, apperr.New(http.StatusConflict, "Revision "+fmt.Sprint(d.Revision)+" was already posted to "+channels.Label(d.Channel)+
			" and then taken down. To post it again, edit the story so a new revision is approved.")
	case d.State != models.DeliveryCancelled:
		return d, nil
	}
	if err := s.jobs.Requeue(ctx, tx, d.JobID); err != nil {
		return nil, err
	}
	now := s.now()
	if err := tx.Model(&models.Job{}).Where("id = ?", d.JobID).Updates(map[string]any{"run_at": at, "attempts": 0}).Error; err != nil {
		return nil, err
	}
	upd := map[string]any{"state": models.DeliveryQueued, "run_at": at, "last_error": "", "takedown_reason": "", "created_by": d.CreatedBy, "updated_at": now}
	if err := tx.Model(d).Updates(upd).Error; err != nil {
		return nil, err
	}
	return d, s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.schedule", ObjectType: "story", ObjectID: d.StoryID,
		Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel, "method": d.Method, "revision": d.Revision, "run_at": at, "again": true}})
}

// idemKey is the delivery's idempotency key: story, channel and revision.
func idemKey(d *models.Delivery) string {
	return fmt.Sprintf("%s:%s:%s:%d", JobDeliver, d.StoryID, d.Channel, d.Revision)
}

// Deliveries lists story id's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, id string) ([]models.Delivery, error) {
	var ds []models.Delivery
	return ds, s.db.WithContext(ctx).Where("story_id = ?", id).Order("created_at DESC, channel").Find(&ds).Error
}

// Delivery returns one delivery.
func (s *Service) Delivery(ctx context.Context, id string) (*models.Delivery, error) {
	var d models.Delivery
	if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&d).Error; err != nil {
		return nil, err
	}
	if d.ID == "" {
		return nil, apperr.NotFound("That delivery does not exist.")
	}
	return &d, nil
}

// Retry queues a failed delivery again (its job starts over with fresh
// attempts), or sends now a delivery waiting out its backoff after a failed
// attempt. The gate is asked again when it runs.
func (s *Service) Retry(ctx context.Context, id string) (*models.Delivery, error) {
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.State != models.DeliveryFailed && !(d.State == models.DeliveryQueued && d.Attempts > 0) {
		return d, apperr.New(http.StatusConflict, "Only a failed delivery, or one waiting to try again, can be retried.")
	}
	if d.JobID == "" {
		return d, errors.New("export: delivery without a job")
	}
	if err := s.jobs.Requeue(ctx, nil, d.JobID); err != nil {
		if errors.Is(err, jobs.ErrNotRetryable) {
			return d, apperr.Wrap(http.StatusConflict, "This delivery is being sent right now.", err)
		}
		return d, err
	}
	return d, nil
}

// retryDeliver runs when a delivery's job is put back in the queue (by an
// admin on Admin → Jobs, or by Retry): a failed delivery becomes queued
// again so the job sends it, and a queued one is due now.
func (s *Service) retryDeliver(ctx context.Context, tx *gorm.DB, j *models.Job) error {
	var p deliveryJob
	if err := jobs.Decode(j, &p); err != nil {
		return err
	}
	var d models.Delivery
	if err := tx.Where("id = ?", p.DeliveryID).Limit(1).Find(&d).Error; err != nil || d.ID == "" {
		return err
	}
	if d.State != models.DeliveryFailed && d.State != models.DeliveryQueued {
		return nil // sent, cancelled or taken down: the job finds nothing to do
	}
	now := s.now()
	if err := tx.Model(&d).Updates(map[string]any{"state": models.DeliveryQueued, "run_at": now, "updated_at": now}).Error; err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "delivery.retry", ObjectType: "story", ObjectID: d.StoryID, Details: map[string]any{"delivery_id": d.ID, "channel": d.Channel}})
}
