package assets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// ChunkSize is the largest chunk a resumable upload accepts: big enough to
// keep requests few, small enough that a dropped connection loses little.
const ChunkSize = 8 << 20

// UploadQuota bounds resumable uploads (finding F17): staged chunks sit in
// storage until the upload completes, so without limits one user could stage
// terabytes. Bytes count the declared size of every open upload, reserved at
// start. Zero fields take the defaults.
type UploadQuota struct {
	MaxOpenPerUser   int           // unfinished uploads one user may have
	MaxStagedPerUser int64         // bytes
	MaxStagedTotal   int64         // bytes, all users
	StaleAfter       time.Duration // an upload untouched this long is swept
}

// DefaultUploadQuota fits a few long videos per user at once.
var DefaultUploadQuota = UploadQuota{MaxOpenPerUser: 5, MaxStagedPerUser: 8 << 30, MaxStagedTotal: 50 << 30, StaleAfter: 6 * time.Hour}

// SetUploadQuota changes the resumable upload quota; call it while wiring.
func (s *Service) SetUploadQuota(q UploadQuota) {
	d := DefaultUploadQuota
	if q.MaxOpenPerUser <= 0 {
		q.MaxOpenPerUser = d.MaxOpenPerUser
	}
	if q.MaxStagedPerUser <= 0 {
		q.MaxStagedPerUser = d.MaxStagedPerUser
	}
	if q.MaxStagedTotal <= 0 {
		q.MaxStagedTotal = d.MaxStagedTotal
	}
	if q.StaleAfter <= 0 {
		q.StaleAfter = d.StaleAfter
	}
	s.quota = &q
}

func (s *Service) uploadQuota() UploadQuota {
	if s.quota == nil {
		return DefaultUploadQuota
	}
	return *s.quota
}

// JobSweepUploads is the job kind that removes abandoned uploads.
const JobSweepUploads = "media.sweep_uploads"

func stagingKey(id string, n int) string { return fmt.Sprintf("staging/%s/%06d", id, n) }

// StartUpload registers a resumable upload of size bytes by user.
func (s *Service) StartUpload(ctx context.Context, owner Owner, fileName string, size int64, userID string) (*models.Upload, error) {
	if size <= 0 {
		return nil, apperr.New(422, "The file is empty; choose a file with something in it.")
	}
	if max := s.maxSize(); size > max {
		return nil, apperr.New(422, fmt.Sprintf("The file is larger than the largest upload allowed (%d MB).", max>>20))
	}
	now := time.Now().UTC()
	u := &models.Upload{ID: uuid.Must(uuid.NewV7()).String(), OwnerType: owner.Type, OwnerID: owner.ID, UserID: userID,
		FileName: CleanFileName(fileName), SizeBytes: size, CreatedAt: now, UpdatedAt: now}
	q := s.uploadQuota()
	// Check and insert under one lock, so parallel starts of one replica do
	// not all pass the check (the transaction does the same on SQLite).
	s.startMu.Lock()
	defer s.startMu.Unlock()
	return u, s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var mine struct {
			N     int64
			Bytes int64
		}
		if err := tx.Model(&models.Upload{}).Select("COUNT(*) AS n, COALESCE(SUM(size_bytes), 0) AS bytes").
			Where("user_id = ?", userID).Scan(&mine).Error; err != nil {
			return err
		}
		if mine.N >= int64(q.MaxOpenPerUser) {
			return apperr.New(429, fmt.Sprintf("You have %d unfinished uploads, the most allowed at once. Let them finish (or wait for abandoned ones to be cleared), then try again.", mine.N))
		}
		if mine.Bytes+size > q.MaxStagedPerUser {
			return apperr.New(429, fmt.Sprintf("Your unfinished uploads would exceed %d MB. Let them finish, then try again.", q.MaxStagedPerUser>>20))
		}
		var total int64
		if err := tx.Model(&models.Upload{}).Select("COALESCE(SUM(size_bytes), 0)").Scan(&total).Error; err != nil {
			return err
		}
		if total+size > q.MaxStagedTotal {
			return apperr.New(503, "Storykeep is receiving too many large uploads right now. Try again later.")
		}
		return tx.Create(u).Error
	})
}

func (s *Service) maxSize() int64 {
	m := max(s.opts.Limits.Image, s.opts.Limits.Audio, s.opts.Limits.Video)
	if m <= 0 {
		m = 4 << 30
	}
	return m
}

// GetUpload returns userID's upload id, or 404 (another user's upload is
// reported as missing, so ids cannot be probed).
func (s *Service) GetUpload(ctx context.Context, id, userID string) (*models.Upload, error) {
	var u models.Upload
	err := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("That upload does not exist or has expired; start the upload again.")
	}
	return &u, err
}

// PutChunk stores the bytes that continue u at offset. A chunk for an
// offset already received, or beyond it, is refused with where to resume.
func (s *Service) PutChunk(ctx context.Context, u *models.Upload, offset int64, r io.Reader, n int64) error {
	if offset != u.Received {
		return apperr.New(409, fmt.Sprintf("Resume at byte %d: that is how much has arrived.", u.Received))
	}
	if n <= 0 || n > ChunkSize || offset+n > u.SizeBytes {
		return apperr.New(422, fmt.Sprintf("A chunk must be 1 to %d bytes and must not go past the file's size.", ChunkSize))
	}
	if offset == 0 {
		// Type-check the first chunk before anything is staged: a file that
		// Ingest would refuse (type, or too large for its kind) stops here.
		br := bufio.NewReaderSize(r, media.SniffLen)
		head, err := br.Peek(int(min(n, media.SniffLen)))
		if err != nil && !errors.Is(err, io.EOF) {
			return apperr.Wrap(400, "That chunk could not be read; send it again.", err)
		}
		opts := s.opts
		if _, err := media.Sniff(head, u.FileName, u.SizeBytes, opts); err != nil {
			s.discardUpload(context.WithoutCancel(ctx), u)
			var rej *media.RejectError
			if errors.As(err, &rej) {
				return apperr.New(422, rej.Msg)
			}
			return err
		}
		r = br
	}
	key := stagingKey(u.ID, u.Chunks)
	if _, err := s.store.Put(ctx, key, io.LimitReader(r, n), n, "application/octet-stream"); err != nil {
		return apperr.Wrap(502, "That chunk could not be stored; send it again.", err)
	}
	res := s.db.WithContext(ctx).Model(&models.Upload{}).Where("id = ? AND received = ?", u.ID, offset).
		Updates(map[string]any{"received": offset + n, "chunks": u.Chunks + 1, "updated_at": time.Now().UTC()})
	if res.Error != nil || res.RowsAffected == 0 {
		_ = s.store.Delete(context.WithoutCancel(ctx), key)
		if res.Error != nil {
			return res.Error
		}
		return apperr.New(409, "Another copy of this chunk arrived first; ask where to resume.")
	}
	u.Received, u.Chunks = offset+n, u.Chunks+1
	return nil
}

// CompleteUpload streams the chunks, in order, through the media pipeline
// (Upload). Stored or rejected, the staging objects and the upload are
// removed: a rejected file leaves nothing behind. When storage (or the
// database) fails instead, they are kept, so the client can call complete
// again without sending the file again.
func (s *Service) CompleteUpload(ctx context.Context, u *models.Upload) (*models.MediaAsset, error) {
	if u.Received != u.SizeBytes {
		return nil, apperr.New(409, fmt.Sprintf("Only %d of %d bytes have arrived; send the rest, then finish.", u.Received, u.SizeBytes))
	}
	a, err := s.Upload(ctx, Owner{Type: u.OwnerType, ID: u.OwnerID}, u.FileName, &chunkReader{ctx: ctx, store: s.store, u: u}, u.UserID)
	var rej *media.RejectError
	if err != nil && !errors.As(err, &rej) {
		s.logger().Error("resumable upload: complete failed; chunks kept for another try", "upload_id", u.ID, "bytes", u.SizeBytes, "err", err)
		if e, ok := apperr.As(err); ok && e.Status == 502 {
			return nil, apperr.Wrap(502, "The file could not be stored right now. What you sent is kept: try finishing the upload again in a minute.", err)
		}
		return nil, err
	}
	s.discardUpload(context.WithoutCancel(ctx), u)
	return a, err
}

func (s *Service) discardUpload(ctx context.Context, u *models.Upload) {
	_ = s.store.List(ctx, "staging/"+u.ID+"/", func(i storage.Info) error { return s.store.Delete(ctx, i.Key) })
	_ = s.db.WithContext(ctx).Delete(&models.Upload{}, "id = ?", u.ID).Error
}

// chunkReader reads an upload's chunks one after another, opening each only
// when the previous is finished, so memory stays flat.
type chunkReader struct {
	ctx   context.Context
	store storage.Store
	u     *models.Upload
	n     int
	cur   io.ReadCloser
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			if c.n >= c.u.Chunks {
				return 0, io.EOF
			}
			rc, _, err := c.store.Open(c.ctx, stagingKey(c.u.ID, c.n))
			if err != nil {
				return 0, err
			}
			c.cur, c.n = rc, c.n+1
		}
		n, err := c.cur.Read(p)
		if errors.Is(err, io.EOF) {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// HandleSweepUploads removes uploads untouched for the quota's StaleAfter,
// with their chunks, and schedules the next sweep in an hour.
func (s *Service) HandleSweepUploads(ctx context.Context, j *models.Job) error {
	var stale []models.Upload
	if err := s.db.WithContext(ctx).Where("updated_at < ?", time.Now().UTC().Add(-s.uploadQuota().StaleAfter)).Find(&stale).Error; err != nil {
		return err
	}
	for i := range stale {
		s.discardUpload(ctx, &stale[i])
	}
	return s.ScheduleUploadSweep(ctx, time.Now().UTC().Add(time.Hour))
}

// ScheduleUploadSweep queues the next sweep of abandoned uploads; the key
// makes replicas agree on one sweep per hour.
func (s *Service) ScheduleUploadSweep(ctx context.Context, at time.Time) error {
	if s.Jobs == nil {
		return nil
	}
	_, err := s.Jobs.Enqueue(ctx, nil, JobSweepUploads, struct{}{}, jobs.Options{RunAt: at, Key: JobSweepUploads + ":" + at.Truncate(time.Hour).Format(time.RFC3339)})
	return err
}
