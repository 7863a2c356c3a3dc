package publiccache

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Tables are the tables whose rows decide what the public website shows
// (migration 00120 puts its triggers on the same list).
var Tables = []string{"stories", "story_tags", "story_channels", "story_approvals", "story_approval_channels",
	"website_publications", "media_assets", "media_renditions", "patients", "consent_requests", "consent_records", "consent_templates"}

func isPublicTable(name string) bool {
	if f := strings.Fields(name); len(f) > 0 {
		name = strings.Trim(f[0], `"`)
	}
	for _, t := range Tables {
		if name == t {
			return true
		}
	}
	return false
}

// WatchWrites calls fn after every create, update or delete through db on a
// public table, and after every raw INSERT, UPDATE or DELETE naming one.
// It runs before the transaction commits, so the cache only opens its
// window (LocalWrite); the generation says when the change is committed.
func WatchWrites(db *gorm.DB, fn func()) {
	byTable := func(tx *gorm.DB) {
		if isPublicTable(tx.Statement.Table) {
			fn()
		}
	}
	raw := func(tx *gorm.DB) {
		sql := strings.ToLower(strings.TrimSpace(tx.Statement.SQL.String()))
		if !strings.HasPrefix(sql, "insert") && !strings.HasPrefix(sql, "update") && !strings.HasPrefix(sql, "delete") {
			return
		}
		for _, t := range Tables {
			if strings.Contains(sql, t) {
				fn()
				return
			}
		}
	}
	cb := db.Callback()
	_ = cb.Create().After("gorm:create").Register("publiccache:create", byTable)
	_ = cb.Update().After("gorm:update").Register("publiccache:update", byTable)
	_ = cb.Delete().After("gorm:delete").Register("publiccache:delete", byTable)
	_ = cb.Raw().After("gorm:raw").Register("publiccache:raw", raw)
}

// counter reads SQLite's public_generation: on every request during a
// local write's window, else at most once per PollEvery.
type counter struct {
	db     *gorm.DB
	flush  func() // entries of an older generation are never served again
	mu     sync.Mutex
	gen    atomic.Uint64
	readAt atomic.Int64
}

func (s *counter) current(ctx context.Context, local bool) (uint64, bool) {
	now := time.Now().UnixNano()
	g := s.gen.Load()
	if !local && g != 0 && now-s.readAt.Load() < int64(PollEvery) {
		return g, true
	}
	if !local {
		// One request refreshes; the others use what is known (at most
		// PollEvery old) rather than queue behind it.
		if !s.mu.TryLock() {
			return g, g != 0
		}
		defer s.mu.Unlock()
	}
	var gens []int64
	if err := s.db.WithContext(ctx).Raw("SELECT generation FROM public_generation WHERE id = 1").Scan(&gens).Error; err != nil || len(gens) == 0 {
		return 0, false
	}
	if old := s.gen.Swap(uint64(gens[0])); old != 0 && old != uint64(gens[0]) {
		s.flush()
	}
	s.readAt.Store(now)
	return uint64(gens[0]), true
}

func (s *counter) close() {}

// listener holds a connection of its own listening for storykeep_public.
// Every notification (one per changed table per committed transaction)
// moves the generation on; while the connection is down nothing is cached,
// and a new connection starts a new generation, since notifications sent
// in between are lost.
type listener struct {
	gen    atomic.Uint64
	live   atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
}

// Channel is the PostgreSQL notification channel.
const Channel = "storykeep_public"

func newListener(ctx context.Context, dsn string, flush func(), log *slog.Logger) *listener {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &listener{cancel: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(l.done)
		once := sync.Once{}
		defer once.Do(func() { close(ready) })
		for ctx.Err() == nil {
			err := l.listen(ctx, dsn, flush, func() { once.Do(func() { close(ready) }) })
			l.live.Store(false)
			l.gen.Add(1)
			if ctx.Err() != nil {
				return
			}
			log.Warn("public cache: PostgreSQL listener lost; public pages are rendered per request until it is back", "err", err)
			once.Do(func() { close(ready) })
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	// Start with the listener up when the database is reachable, so the
	// first requests already use the cache.
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
	}
	return l
}

func (l *listener) listen(ctx context.Context, dsn string, flush func(), up func()) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	l.gen.Add(1)
	flush()
	l.live.Store(true)
	up()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		l.gen.Add(1)
		flush()
	}
}

func (l *listener) current(_ context.Context, local bool) (uint64, bool) {
	g := l.gen.Load()
	return g, l.live.Load() && !local
}

func (l *listener) close() {
	l.cancel()
	<-l.done
}
