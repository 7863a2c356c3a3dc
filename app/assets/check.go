package assets

import (
	"context"
	"errors"
	"strings"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// Report lists inconsistencies between rows and objects.
type Report struct {
	RowsWithoutObjects []models.MediaAsset // a row whose object is missing
	ObjectsWithoutRows []string            // keys under KeyPrefix or originals/ with no row
	Checked            int
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
	for _, k := range rep.ObjectsWithoutRows {
		if err := s.store.Delete(ctx, k); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}
