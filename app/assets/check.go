package assets

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// Report lists inconsistencies between rows and objects.
type Report struct {
	RowsWithoutObjects []models.MediaAsset // a row whose object is missing
	ObjectsWithoutRows []string            // keys under KeyPrefix or originals/ with no row
	// StagedWithoutUpload are resumable-upload chunks (staging/…) older
	// than the threshold whose upload row is gone.
	StagedWithoutUpload []string
	// Leftovers are incomplete multipart uploads (S3) or temp files (local
	// disk) older than the threshold.
	Leftovers []storage.Leftover
	Checked   int
}

// DefaultLeftoverAge is how old a leftover of an interrupted upload must be
// before media check reports it: younger ones may belong to an upload still
// in progress.
const DefaultLeftoverAge = 24 * time.Hour

// CheckAll is Check, plus staged chunks without an upload and leftovers
// of interrupted uploads older than olderThan.
func (s *Service) CheckAll(ctx context.Context, olderThan time.Duration) (Report, error) {
	rep, err := s.Check(ctx)
	if err != nil {
		return rep, err
	}
	var ids []string
	if err := s.db.WithContext(ctx).Model(&models.Upload{}).Pluck("id", &ids).Error; err != nil {
		return rep, err
	}
	live := map[string]bool{}
	for _, id := range ids {
		live[id] = true
	}
	cut := time.Now().Add(-olderThan)
	err = s.store.List(ctx, "staging/", func(info storage.Info) error {
		id, _, _ := strings.Cut(strings.TrimPrefix(info.Key, "staging/"), "/")
		if !live[id] && info.ModTime.Before(cut) {
			rep.StagedWithoutUpload = append(rep.StagedWithoutUpload, info.Key)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if ls, ok := s.store.(storage.LeftoverStore); ok {
		if rep.Leftovers, err = ls.Leftovers(ctx, olderThan); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Check compares every asset row with the store. Objects belonging to
// renditions (key + ".r/…") count as belonging to their asset.
func (s *Service) Check(ctx context.Context) (Report, error) {
	var rep Report
	known := map[string]bool{}
	var rows []models.MediaAsset
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return rep, err
	}
	for _, a := range rows {
		rep.Checked++
		known[a.StorageKey] = true
		if a.OriginalKey != "" {
			known[a.OriginalKey] = true
		}
		if _, err := s.store.Stat(ctx, a.StorageKey); errors.Is(err, storage.ErrNotFound) {
			rep.RowsWithoutObjects = append(rep.RowsWithoutObjects, a)
		} else if err != nil {
			return rep, err
		}
	}
	for _, prefix := range []string{KeyPrefix, "originals/" + KeyPrefix} {
		err := s.store.List(ctx, prefix, func(info storage.Info) error {
			k := info.Key
			if i := strings.Index(k, ".r/"); i > 0 {
				k = k[:i]
			}
			if !known[k] {
				rep.ObjectsWithoutRows = append(rep.ObjectsWithoutRows, info.Key)
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Fix removes objects that have no row. Rows without objects are only
// reported: they may be referenced by consent records and need a person's
// decision.
func (s *Service) Fix(ctx context.Context, rep Report) (removed int, err error) {
	for _, k := range append(append([]string{}, rep.ObjectsWithoutRows...), rep.StagedWithoutUpload...) {
		if err := s.store.Delete(ctx, k); err != nil {
			return removed, err
		}
		removed++
	}
	if ls, ok := s.store.(storage.LeftoverStore); ok {
		for _, l := range rep.Leftovers {
			if err := ls.RemoveLeftover(ctx, l); err != nil {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}
