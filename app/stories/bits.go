package stories

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/models"
)

// claimTag gives tag the next free bit, or no bit (NULL) once all 63 are
// taken, unless the tag already has a row. When another save claims the same
// bit first, this inserts nothing and the caller tries again. ("WHERE true"
// keeps SQLite from reading ON CONFLICT as part of the SELECT.)
const claimTag = `INSERT INTO tags (tag, bit)
	SELECT ?, CASE WHEN n < 63 THEN n END FROM (SELECT COALESCE(MAX(bit), -1) + 1 AS n FROM tags) c WHERE true
	ON CONFLICT DO NOTHING`

// tagBits returns the stories.tag_bits of a story with tags (sorted, as
// Input.normalise leaves them), first registering in tx the tags never used
// before (see models.Tag).
func tagBits(tx *gorm.DB, tags []string) (int64, error) {
	if len(tags) == 0 {
		return 0, nil
	}
	var rows []models.Tag
	if err := tx.Where("tag IN ?", tags).Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("reading tag bits: %w", err)
	}
	known := make(map[string]*int, len(tags))
	for _, r := range rows {
		known[r.Tag] = r.Bit
	}
	var bits int64
	for _, t := range tags {
		bit, ok := known[t]
		for try := 0; !ok; try++ {
			if try == 32 { // each try waits for another save to commit; the pool bounds them
				return 0, fmt.Errorf("registering a new tag: too many other saves at once, try again")
			}
			if err := tx.Exec(claimTag, t).Error; err != nil {
				return 0, fmt.Errorf("registering a new tag: %w", err)
			}
			var got []models.Tag
			if err := tx.Where("tag = ?", t).Find(&got).Error; err != nil {
				return 0, fmt.Errorf("reading tag bits: %w", err)
			}
			if len(got) == 1 {
				bit, ok = got[0].Bit, true
			}
		}
		if bit == nil {
			bits |= models.TagOverflowBit
		} else {
			bits |= 1 << *bit
		}
	}
	return bits, nil
}

// tagBitCache keeps the tags rows read for filters. A row never changes once
// committed (see models.Tag), so it is kept for good; a tag without a row is
// looked up again each time, since a save may add it.
type tagBitCache struct{ m sync.Map }

// memberBit returns what a list filter on a tag or a channel tests in the
// story's bits: the value's own bit (exact: set exactly on the stories having
// the value) or, for a tag without a bit, models.TagOverflowBit (stories with
// it set must still be checked). found is false when no story can have the
// value: a tag never used, or no such channel.
func (s *Service) memberBit(ctx context.Context, table, value string) (bit int64, exact, found bool, err error) {
	if table == "story_channels" {
		if _, ok := channels.Get(value); !ok {
			return 0, false, false, nil
		}
		return channels.Bits(value), true, true, nil
	}
	v, ok := s.tagBits.m.Load(value)
	if !ok {
		var rows []models.Tag
		if err := s.read.WithContext(ctx).Where("tag = ?", value).Find(&rows).Error; err != nil {
			return 0, false, false, err
		}
		if len(rows) == 0 {
			return 0, false, false, nil
		}
		v, _ = s.tagBits.m.LoadOrStore(value, rows[0])
	}
	if t := v.(models.Tag); t.Bit != nil {
		return 1 << *t.Bit, true, true, nil
	}
	return models.TagOverflowBit, false, true, nil
}
