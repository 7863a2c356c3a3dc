package stories

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

// JobOptimizeSearch is the nightly job that keeps SQLite's full-text index
// in one segment (see OptimizeSearch).
const JobOptimizeSearch = "stories.optimize_search"

// mergeStep is how many index pages (about 4 KB each) one merge step writes:
// one short write transaction, so saves interleave with the work.
const mergeStep = 200

// OptimizeSearch merges SQLite's full-text index into a single segment and
// reports how many merge steps that took (0 on PostgreSQL, whose GIN index
// autovacuum maintains, and when the index is already one segment).
//
// FTS5 adds a segment with every write and merges them only in groups, so an
// index built up over time is spread over about ten segments, and a search
// looks in each: a search with a patient filter, which asks the index about a
// few stories one at a time, took 340 µs over ten segments and 55 µs over
// one, and a plain search 40 µs and 30 µs (100,000 stories). The merge is
// done in steps of mergeStep pages, each its own write, as FTS5 documents for
// an incremental optimize: a first 'merge' with a negative page count puts
// every segment on one level, later ones continue it, and a step that
// changes fewer than two rows means the merge is done.
func (s *Service) OptimizeSearch(ctx context.Context) (steps int, err error) {
	if s.db.Dialector.Name() == "postgres" {
		return 0, nil
	}
	var segments int64
	if err := s.db.WithContext(ctx).Raw("SELECT count(DISTINCT segid) FROM stories_fts_idx").Scan(&segments).Error; err != nil || segments <= 1 {
		return 0, err
	}
	for {
		n := mergeStep
		if steps == 0 {
			n = -mergeStep
		}
		var before, after int64
		// total_changes() counts per connection: one step stays on one.
		err := s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
			if err := conn.Raw("SELECT total_changes()").Scan(&before).Error; err != nil {
				return err
			}
			if err := conn.Exec("INSERT INTO stories_fts(stories_fts, rank) VALUES('merge', ?)", n).Error; err != nil {
				return err
			}
			return conn.Raw("SELECT total_changes()").Scan(&after).Error
		})
		if err != nil {
			return steps, err
		}
		steps++
		if after-before < 2 {
			return steps, nil
		}
		if err := ctx.Err(); err != nil {
			return steps, err
		}
	}
}

// ScheduleSearchOptimize queues the next nightly OptimizeSearch at 03:00 UTC
// after now (once per night, however many replicas ask).
func ScheduleSearchOptimize(ctx context.Context, q *jobs.Queue, now time.Time) error {
	at := now.UTC().Truncate(24 * time.Hour).Add(3 * time.Hour)
	if !at.After(now) {
		at = at.Add(24 * time.Hour)
	}
	_, err := q.Enqueue(ctx, nil, JobOptimizeSearch, struct{}{}, jobs.Options{RunAt: at, Key: JobOptimizeSearch + ":" + at.Format("2006-01-02")})
	return err
}

// OptimizeSearchJob runs OptimizeSearch and queues the next night's.
func (s *Service) OptimizeSearchJob(q *jobs.Queue) jobs.Handler {
	return func(ctx context.Context, _ *models.Job) error {
		if _, err := s.OptimizeSearch(ctx); err != nil {
			return err
		}
		return ScheduleSearchOptimize(ctx, q, time.Now())
	}
}
