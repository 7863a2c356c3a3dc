// Package assets keeps media rows and stored objects consistent: an upload is
// streamed through the media pipeline into object storage first and its row
// is written only once the object is safely stored; if the row cannot be
// written, the object is removed. Check finds anything a crash left behind.
package assets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"unicode"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// KeyPrefix is where every asset object lives in the store.
const KeyPrefix = "media/"

// DescribeHook is told, inside Describe's transaction, that an asset's alt
// text, caption or focal point changed; consent uses it to supersede a
// consent that covers the asset, as a body edit does (finding F1).
type DescribeHook interface {
	MediaDescribed(ctx context.Context, tx *gorm.DB, before, after models.MediaAsset) error
}

// Binder tells whether an asset is bound by a consent and so cannot be
// deleted. The consent capability provides it; nil means nothing is bound.
// An error from Bound is returned to the caller as is, so a binder may
// answer with an apperr.Error that says why (retention date, legal hold).
type Binder interface {
	Bound(ctx context.Context, assetID string) (bool, error)
}

// Service uploads, describes, deletes and checks media assets.
type Service struct {
	db     *gorm.DB
	store  storage.Store
	audit  *audit.Log
	opts   media.Options
	Binder Binder
	// Described, when set, is told of alt text, caption and focal point changes.
	Described DescribeHook
	// quota bounds resumable uploads (SetUploadQuota); startMu serialises
	// their quota check and start.
	quota   *UploadQuota
	startMu sync.Mutex
	// Jobs, when set, gets a renditions job for every upload.
	Jobs *jobs.Queue
	// Log receives upload and storage failures with their cause (ids and
	// keys only, never file names or patient details); nil: slog.Default.
	Log *slog.Logger
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// New returns the service.
func New(db *gorm.DB, store storage.Store, log *audit.Log, opts media.Options) *Service {
	return &Service{db: db, store: store, audit: log, opts: opts}
}

// SetLimits changes the per-kind size limits (bytes); zero keeps a default.
func (s *Service) SetLimits(image, audio, video int64) {
	s.opts.Limits = media.Limits{Image: image, Audio: audio, Video: video}
}

// Owner is what an asset is attached to.
type Owner struct{ Type, ID string }

// CleanFileName keeps a display name safe: no directories, no control
// characters, at most 200 bytes. It is only ever shown, never used as a key.
func CleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == ".." {
		name = ""
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

// Upload streams r through the media pipeline into storage and records the
// asset. A rejected or failed upload leaves no object and no row.
func (s *Service) Upload(ctx context.Context, owner Owner, fileName string, r io.Reader, uploaderID string) (*models.MediaAsset, error) {
	if owner.Type != models.OwnerStory && owner.Type != models.OwnerInterview {
		return nil, fmt.Errorf("assets: unknown owner type %q", owner.Type)
	}
	id := uuid.Must(uuid.NewV7()).String()
	key := KeyPrefix + owner.Type + "/" + owner.ID + "/" + id
	opts := s.opts
	opts.DeclaredName = CleanFileName(fileName)
	res, err := media.Ingest(ctx, s.store, key, r, opts)
	if err != nil {
		var rej *media.RejectError
		if errors.As(err, &rej) {
			return nil, apperr.Wrap(422, rej.Msg, err)
		}
		s.logger().Error("upload failed: storage", "owner_type", owner.Type, "owner_id", owner.ID, "key", key, "err", err)
		return nil, apperr.Wrap(502, "The file could not be stored. Nothing was saved; try again.", err)
	}
	a := &models.MediaAsset{
		ID: id, OwnerType: owner.Type, OwnerID: owner.ID, Kind: string(res.Kind), ContentType: res.ContentType,
		SizeBytes: res.Size, SHA256: res.SHA256, Width: res.Width, Height: res.Height, DurationMS: res.Duration.Milliseconds(),
		StorageKey: res.Key, OriginalKey: res.OriginalKey, FileName: opts.DeclaredName, FocalX: 500, FocalY: 500,
		Degraded: res.Degraded, UploadedBy: uploaderID, RenditionsState: "pending",
	}
	if a.Kind == string(media.KindAudio) {
		a.RenditionsState = "ready"
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(a).Error; err != nil {
			return err
		}
		if s.Jobs != nil {
			if err := s.QueueRenditions(ctx, tx, s.Jobs, a); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "media.upload", ObjectType: "media", ObjectID: a.ID,
			Details: map[string]any{"owner_type": owner.Type, "owner_id": owner.ID, "kind": a.Kind, "size": a.SizeBytes, "sha256": a.SHA256}})
	})
	if err != nil {
		// The row did not make it: remove the object so nothing is orphaned.
		s.removeObjects(context.WithoutCancel(ctx), a)
		return nil, err
	}
	return a, nil
}

func (s *Service) removeObjects(ctx context.Context, a *models.MediaAsset) error {
	var errs []error
	for _, k := range []string{a.StorageKey, a.OriginalKey} {
		if k != "" {
			errs = append(errs, s.store.Delete(ctx, k))
		}
	}
	// Renditions live under the asset's key; remove them with it.
	errs = append(errs, s.store.List(ctx, a.StorageKey+".r/", func(i storage.Info) error { return s.store.Delete(ctx, i.Key) }))
	return errors.Join(errs...)
}

// Get returns an asset, or a 404 error.
func (s *Service) Get(ctx context.Context, id string) (*models.MediaAsset, error) {
	var a models.MediaAsset
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound
	}
	return &a, err
}

var notFound = apperr.NotFound("That media item does not exist.")

// List returns an owner's assets, oldest first.
func (s *Service) List(ctx context.Context, owner Owner) ([]models.MediaAsset, error) {
	var as []models.MediaAsset
	err := s.db.WithContext(ctx).Where("owner_type = ? AND owner_id = ?", owner.Type, owner.ID).Order("created_at, id").Find(&as).Error
	return as, err
}

// Describe sets alt text, caption and focal point (0..1000 each axis).
func (s *Service) Describe(ctx context.Context, id, alt, caption string, fx, fy int) error {
	alt, caption = strings.TrimSpace(alt), strings.TrimSpace(caption)
	fe := map[string]string{}
	if len(alt) > 1000 {
		fe["alt"] = "Alt text must be at most 1,000 characters; describe what matters in the picture."
	}
	if len(caption) > 2000 {
		fe["caption"] = "Caption must be at most 2,000 characters."
	}
	if fx < 0 || fx > 1000 || fy < 0 || fy > 1000 {
		fe["focal"] = "The focal point must lie inside the picture."
	}
	if len(fe) > 0 {
		return FieldErrors(fe)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var before models.MediaAsset
		if err := tx.Where("id = ?", id).Limit(1).Find(&before).Error; err != nil {
			return err
		}
		if before.ID == "" {
			return apperr.NotFound("That media item does not exist.")
		}
		res := tx.Model(&models.MediaAsset{}).Where("id = ?", id).Updates(map[string]any{"alt_text": alt, "caption": caption, "focal_x": fx, "focal_y": fy})
		if res.Error != nil {
			return res.Error
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "media.describe", ObjectType: "media", ObjectID: id, Details: map[string]any{"has_alt": alt != "", "focal": []int{fx, fy}}}); err != nil {
			return err
		}
		after := before
		after.AltText, after.Caption, after.FocalX, after.FocalY = alt, caption, fx, fy
		if s.Described == nil || after.AltText == before.AltText && after.Caption == before.Caption && after.FocalX == before.FocalX && after.FocalY == before.FocalY {
			return nil
		}
		return s.Described.MediaDescribed(ctx, tx, before, after)
	})
}

// FieldErrors maps form fields to what is wrong with them.
type FieldErrors = apperr.FieldErrors

// Delete removes an asset's row and then its objects. An asset bound by a
// consent cannot be deleted. If removing an object fails after the row is
// gone, Check reports the leftover object and Fix removes it.
func (s *Service) Delete(ctx context.Context, id string) error {
	a, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if s.Binder != nil {
		bound, err := s.Binder.Bound(ctx, id)
		if err != nil {
			return err
		}
		if bound {
			return apperr.New(409, "This item is part of what a patient consented to, so it cannot be deleted while that consent stands.")
		}
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Delete(&models.MediaAsset{}, "id = ?", id).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "media.delete", ObjectType: "media", ObjectID: id, Details: map[string]any{"sha256": a.SHA256}})
	})
	if err != nil {
		return err
	}
	return s.removeObjects(ctx, a)
}

// Open streams an asset's bytes (offset/length as storage.Store.OpenRange).
func (s *Service) Open(ctx context.Context, a *models.MediaAsset, offset, length int64) (io.ReadCloser, storage.Info, error) {
	return s.store.OpenRange(ctx, a.StorageKey, offset, length)
}
