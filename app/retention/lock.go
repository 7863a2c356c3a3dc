package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// Write-once evidence (issue 24 item 3). When the store is write-once (S3
// with Object Lock, or local disk), the signature image, certificate and
// frozen media of each signed consent record are retained until the
// record's retention date:
//
//   - while the record is valid its end is unknown, but it cannot be before
//     today, so the objects are retained until today plus the retention
//     period, a date that is never later than the true one. The daily job
//     extends it before it gets within extendWithin of running out;
//   - when the record ends (revoked, expired, superseded), the date becomes
//     its end plus the retention period, exactly the date a purge may run.
//
// Retention is only ever extended: in compliance mode S3 refuses to
// shorten it, and a date set too early would let evidence go too soon.

// JobLock retains one record's evidence objects; consent queues it in the
// transaction that signs or ends a record, or stores its certificate.
const JobLock = "retention.lock"

// extendWithin is how close to running out a valid record's retention may
// get before the daily job extends it.
const extendWithin = 30 * 24 * time.Hour

type lockJob struct {
	RecordID string `json:"record_id"`
}

// retainer is the store's write-once side, nil when it has none or it is
// not active.
func (s *Service) retainer(ctx context.Context) storage.Retainer {
	r, ok := s.store.(storage.Retainer)
	if !ok || !r.WriteOnce(ctx).Active {
		return nil
	}
	return r
}

// WriteOnce says whether evidence is kept write-once, and how.
func (s *Service) WriteOnce(ctx context.Context) storage.WriteOnce {
	r, ok := s.store.(storage.Retainer)
	if !ok {
		return storage.WriteOnce{Why: "the store cannot keep objects write-once"}
	}
	return r.WriteOnce(ctx)
}

// HandleLock handles JobLock.
func (s *Service) HandleLock(ctx context.Context, job *models.Job) error {
	var j lockJob
	if err := jobs.Decode(job, &j); err != nil {
		return err
	}
	err := s.LockRecord(ctx, j.RecordID)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return jobs.Permanent(err)
	}
	return err
}

// EvidenceKeys lists the objects of a record that are evidence: its
// signature image, certificate, and the stored bytes of every photo or
// recording it refers to, and the paper scans filed with it (renditions are derived and can be made again).
func (s *Service) EvidenceKeys(ctx context.Context, rec *models.ConsentRecord) ([]string, error) {
	var keys []string
	for _, k := range []string{rec.SignatureKey, rec.CertificateKey} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	// A paper authorization's scan and a written revocation's letter are
	// the record's signature.
	var scans []string
	if err := s.db.WithContext(ctx).Model(&models.ConsentPaperDocument{}).Where("record_id = ?", rec.ID).Order("id").Pluck("storage_key", &scans).Error; err != nil {
		return nil, err
	}
	keys = append(keys, scans...)
	ids := parseList(rec.MediaIDs)
	if len(ids) == 0 {
		return keys, nil
	}
	var assets []models.MediaAsset
	if err := s.db.WithContext(ctx).Select("id", "storage_key", "original_key").Where("id IN ?", ids).Order("id").Find(&assets).Error; err != nil {
		return nil, err
	}
	for _, a := range assets {
		for _, k := range []string{a.StorageKey, a.OriginalKey} {
			if k != "" {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// LockRecord retains the evidence objects of record id until its retention
// date (see above). It does nothing when the store is not write-once.
func (s *Service) LockRecord(ctx context.Context, id string) error {
	r := s.retainer(ctx)
	if r == nil {
		return nil
	}
	var rec models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&rec).Error; err != nil {
		return err
	}
	return s.lockRecord(ctx, r, &rec)
}

func (s *Service) lockRecord(ctx context.Context, r storage.Retainer, rec *models.ConsentRecord) error {
	keys, err := s.EvidenceKeys(ctx, rec)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		until := s.now().AddDate(s.years, 0, 0)
		if rec.EndedAt != nil {
			until = s.until(*rec.EndedAt)
		} else if cur, err := r.RetainedUntil(ctx, k); err == nil && cur.After(until.Add(-extendWithin)) {
			continue // valid record, retained long enough for now
		}
		if err := r.Retain(ctx, k, until); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				s.log.Warn("retention: evidence object missing", "record", rec.ID, "key", k)
				continue
			}
			errs = append(errs, fmt.Errorf("retain %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// LockAll retains the evidence of every record: with all false, records
// still valid (to extend their date) and those that ended in the last 30
// days (to catch up on a lock job that kept failing); with all true, every
// record (after Object Lock is turned on for a bucket, or objects were
// copied into a new one). It returns how many records it went through.
func (s *Service) LockAll(ctx context.Context, all bool) (int, error) {
	r := s.retainer(ctx)
	if r == nil {
		return 0, nil
	}
	q := s.db.WithContext(ctx).Model(&models.ConsentRecord{})
	if !all {
		q = q.Where("ended_at IS NULL OR ended_at >= ?", s.now().Add(-30*24*time.Hour))
	}
	var recs []models.ConsentRecord
	if err := q.Order("id").Find(&recs).Error; err != nil {
		return 0, err
	}
	var errs []error
	for i := range recs {
		if err := s.lockRecord(ctx, r, &recs[i]); err != nil {
			errs = append(errs, fmt.Errorf("record %s: %w", recs[i].ID, err))
		}
	}
	return len(recs), errors.Join(errs...)
}
