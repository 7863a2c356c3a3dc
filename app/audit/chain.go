package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/models"
)

// chainLock is the PostgreSQL advisory lock whose holder links entries:
// one chainer at a time across every replica.
const chainLock = 724173

// linkBatch is how many entries one linking transaction takes.
const linkBatch = 500

// errNotLeader means another replica holds the chaining lock right now.
var errNotLeader = errors.New("audit: another replica is linking")

// Head is the last linked entry: its chain position and hash.
type Head struct {
	Seq  int64
	Hash string
	At   time.Time // when that entry was recorded
}

// Link gives every unlinked entry that is committed now its place in the
// chain, in order of arrival (id), and returns how many it linked. Only one
// chainer runs at a time: on PostgreSQL the holder of an advisory lock (a
// replica that does not get it returns 0 and leaves the work to the one
// that has it); on SQLite, which one process writes, a mutex.
//
// Why no entry is ever skipped, although ids are drawn before commit: the
// chain's order is the order Link finds entries committed, not the order of
// their ids. An entry whose transaction commits after Link has passed
// higher ids (it drew its id earlier but ran longer) is simply unlinked at
// the next run, and linked then, after them. So Link never waits on a gap
// in the ids, and a gap that stays (a rolled-back transaction's id) means
// nothing. The ids of two entries committed at about the same time can
// thus stand in the chain in the other order; the chain proves the order it
// gives them, and each keeps its own recorded time.
//
// Link waits for the chaining lock (on demand, at shutdown, before an
// anchor); the periodic runner only tries it, and leaves the work to the
// replica that has it.
func (l *Log) Link(ctx context.Context) (int, error) { return l.link(ctx, true) }

func (l *Log) link(ctx context.Context, wait bool) (int, error) {
	if !l.isPostgres() {
		l.linkMu.Lock()
		defer l.linkMu.Unlock()
	}
	total := 0
	for {
		n, err := l.linkOnce(ctx, wait)
		total += n
		if errors.Is(err, errNotLeader) {
			return total, nil
		}
		if err != nil || n < linkBatch {
			return total, err
		}
	}
}

func (l *Log) isPostgres() bool { return l.db.Dialector.Name() == "postgres" }

// linkOnce links up to linkBatch entries in one transaction.
func (l *Log) linkOnce(ctx context.Context, wait bool) (int, error) {
	n := 0
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if l.isPostgres() && wait {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", chainLock).Error; err != nil {
				return fmt.Errorf("audit: chaining lock: %w", err)
			}
		} else if l.isPostgres() {
			var got bool
			if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", chainLock).Scan(&got).Error; err != nil {
				return fmt.Errorf("audit: chaining lock: %w", err)
			}
			if !got {
				return errNotLeader
			}
		}
		head, err := headOf(tx)
		if err != nil {
			return err
		}
		var rows []models.AuditEntry
		if err := tx.Where("seq IS NULL").Order("id").Limit(linkBatch).Find(&rows).Error; err != nil {
			return fmt.Errorf("audit: reading unlinked entries: %w", err)
		}
		seq, prev := head.Seq, head.Hash
		// One UPDATE per batch, not per entry: a statement per entry was a
		// tenth of a delivery's database round trips under load.
		var b strings.Builder
		args := make([]any, 0, 4*len(rows))
		b.WriteString("UPDATE audit_log SET seq = v.column2, prev_hash = v.column3, hash = v.column4 FROM (VALUES ")
		for i, e := range rows {
			seq++
			s, p := seq, prev
			e.Seq, e.PrevHash = &s, &p
			h := Hash(e)
			if i > 0 {
				b.WriteString(", ")
			}
			// Typed, since PostgreSQL takes a bare parameter in VALUES as text.
			b.WriteString("(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT))")
			args = append(args, e.ID, s, p, h)
			prev = h
		}
		if len(rows) > 0 {
			// SQLite and PostgreSQL both name a VALUES list's columns
			// column1, column2, ...
			b.WriteString(") AS v WHERE audit_log.id = v.column1 AND audit_log.seq IS NULL")
			res := tx.Exec(b.String(), args...)
			if res.Error != nil {
				return fmt.Errorf("audit: linking entries %d to %d: %w", rows[0].ID, rows[len(rows)-1].ID, res.Error)
			}
			if res.RowsAffected != int64(len(rows)) {
				return fmt.Errorf("audit: linked %d of entries %d to %d: someone else linked the others", res.RowsAffected, rows[0].ID, rows[len(rows)-1].ID)
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// headOf reads the last linked entry (zero Head for an empty chain).
func headOf(tx *gorm.DB) (Head, error) {
	var last []models.AuditEntry
	if err := tx.Where("seq IS NOT NULL").Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return Head{}, fmt.Errorf("audit: reading chain head: %w", err)
	}
	if len(last) == 0 {
		return Head{}, nil
	}
	return Head{Seq: *last[0].Seq, Hash: deref(last[0].Hash), At: last[0].At}, nil
}

// Head returns the last linked entry.
func (l *Log) Head(ctx context.Context) (Head, error) {
	return headOf(l.db.WithContext(ctx))
}

// Unlinked counts entries not yet linked and returns the oldest one's time.
func (l *Log) Unlinked(ctx context.Context) (int64, time.Time, error) {
	var n int64
	if err := l.db.WithContext(ctx).Model(&models.AuditEntry{}).Where("seq IS NULL").Count(&n).Error; err != nil {
		return 0, time.Time{}, err
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var first []models.AuditEntry
	if err := l.db.WithContext(ctx).Where("seq IS NULL").Order("id").Limit(1).Find(&first).Error; err != nil {
		return 0, time.Time{}, err
	}
	oldest := time.Time{}
	if len(first) == 1 {
		oldest = first[0].At
	}
	return n, oldest, nil
}

// RunLinker links new entries every interval until ctx ends; Kick asks for
// a run at once.
func (l *Log) RunLinker(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
		}
		if _, err := l.link(ctx, false); err != nil && ctx.Err() == nil {
			log.Warn("audit: linking entries", "err", err)
		}
	}
}

// Kick asks a running linker to link at once; it never blocks.
func (l *Log) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// linkState is embedded in Log.
type linkState struct {
	linkMu sync.Mutex
	kick   chan struct{}
}
