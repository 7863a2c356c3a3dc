package consent

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

// RenewalNotice is how long before a consent ends (or a minor turns 18)
// staff are asked to seek renewal.
const RenewalNotice = 30 * 24 * time.Hour

// ScheduleSweep queues the hourly expiry sweep to run at `at`. The
// idempotency key names the hour, so every replica may call it at start and
// one job runs. At start the app passes a minute from now, leaving the
// queue to work already waiting first.
func (s *Service) ScheduleSweep(ctx context.Context, at time.Time) error {
	hour := at.UTC().Truncate(time.Hour)
	_, err := s.jobs.Enqueue(ctx, nil, JobSweep, struct{}{}, jobs.Options{RunAt: at, Key: JobSweep + ":" + hour.Format("2006-01-02T15")})
	return err
}

// HandleSweep expires links and consents whose time has come, asks staff to
// renew consents ending within RenewalNotice (once) and to renew minors'
// consents before they turn 18, then queues the next hour's sweep.
func (s *Service) HandleSweep(ctx context.Context, _ *models.Job) error {
	ctx = audit.WithActor(ctx, audit.System)
	if err := s.Sweep(ctx); err != nil {
		return err
	}
	return s.ScheduleSweep(ctx, s.now().Truncate(time.Hour).Add(time.Hour))
}

// Sweep does one pass of the expiry rules.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	db := s.db.WithContext(ctx)
	var reqs []models.ConsentRequest
	if err := db.Where("status IN ? AND expires_at < ?", append(liveRequest, models.RequestLocked), now).Find(&reqs).Error; err != nil {
		return err
	}
	for i := range reqs {
		if err := s.expireRequest(ctx, &reqs[i]); err != nil {
			return err
		}
	}
	var ended []models.ConsentRecord
	if err := db.Where("status = ? AND expires_on <= ?", models.RecordValid, now).Find(&ended).Error; err != nil {
		return err
	}
	for i := range ended {
		if err := s.end(ctx, &ended[i], models.RecordExpired, "", NotifyExpired); err != nil && err != ErrAlreadyRevoked {
			return err
		}
	}
	if err := s.lapseAtMajority(ctx); err != nil {
		return err
	}
	if err := s.remind(ctx, "expires_on <= ? AND renewal_notified_at IS NULL", "renewal_notified_at", NotifyRenewal, now); err != nil {
		return err
	}
	if err := s.patientExpiryNotices(ctx, now); err != nil {
		return err
	}
	return s.remind(ctx, "minor = ? AND majority_on <= ? AND majority_notified_at IS NULL", "majority_notified_at", NotifyMajority, now)
}

// remind notifies staff once for each valid record matching cond.
func (s *Service) remind(ctx context.Context, cond, column, kind string, now time.Time) error {
	args := []any{now.Add(RenewalNotice)}
	if kind == NotifyMajority {
		args = []any{true, now.Add(RenewalNotice)}
	}
	var recs []models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("status = ?", models.RecordValid).Where(cond, args...).Find(&recs).Error; err != nil {
		return err
	}
	for _, rec := range recs {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			q := tx.Model(&models.ConsentRecord{}).Where("id = ? AND "+column+" IS NULL", rec.ID).Update(column, now)
			if q.Error != nil || q.RowsAffected == 0 {
				return q.Error
			}
			var actors []string
			if err := tx.Model(&models.ConsentRequest{}).Where("id = ?", rec.RequestID).Pluck("created_by", &actors).Error; err != nil || len(actors) == 0 {
				return err
			}
			return s.notifyStaff(ctx, tx, rec.StoryID, actors[0], kind)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
