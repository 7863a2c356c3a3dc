package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// record appends n entries and links them, as the chainer would.
func record(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "u1", Label: "a@example.org", IP: "192.0.2.1", RequestID: "r1"})
	for i := 0; i < n; i++ {
		if err := l.Record(ctx, nil, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: fmt.Sprint(i), Details: map[string]any{"role": "storyteller"}}); err != nil {
			t.Fatal(err)
		}
	}
	link(t, l)
}

func link(t *testing.T, l *audit.Log) int {
	t.Helper()
	n, err := l.Link(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVerifyFreshAndAfterWrites(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	rep, err := l.Verify(context.Background())
	if err != nil || rep.Broken != nil || rep.Checked != 0 {
		t.Fatalf("fresh database: %+v %v", rep, err)
	}
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := l.Record(ctx, nil, audit.Entry{Action: "x", ObjectType: "y"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = l.Verify(ctx)
	if err != nil || rep.Broken != nil || rep.Checked != 0 || rep.Unlinked != 5 || rep.OldestUnlinked.IsZero() {
		t.Fatalf("before linking, 5 entries wait unlinked: %+v %v", rep, err)
	}
	if n := link(t, l); n != 5 {
		t.Fatalf("linked %d, want 5", n)
	}
	rep, err = l.Verify(ctx)
	if err != nil || rep.Broken != nil || rep.Checked != 5 || rep.Head == "" || rep.HeadSeq != 5 || rep.Unlinked != 0 {
		t.Fatalf("after 5 writes: %+v %v", rep, err)
	}
	if n := link(t, l); n != 0 {
		t.Fatalf("a second run linked %d entries again", n)
	}
}

// disableAppendOnly removes the database guards, as someone with direct
// database access could, to prove the hash chain still catches the edit.
func disableAppendOnly(t *testing.T, gdb *gorm.DB) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_log_insert_unlinked"}
	if dbtest.Driver() == "postgres" {
		stmts = []string{"DROP TRIGGER audit_log_no_update ON audit_log", "DROP TRIGGER audit_log_no_truncate ON audit_log", "DROP TRIGGER audit_log_insert_unlinked ON audit_log"}
	}
	for _, s := range stmts {
		if err := gdb.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendOnlyAtDatabaseLevel(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	record(t, l, 1)
	if err := gdb.Exec("UPDATE audit_log SET action = 'x'").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of audit_log should be refused, got %v", err)
	}
	if err := gdb.Exec("UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL").Error; err == nil {
		t.Fatal("unlinking a linked entry should be refused")
	}
	if err := gdb.Exec("DELETE FROM audit_log").Error; err == nil {
		t.Fatal("delete of audit_log should be refused")
	}
	if dbtest.Driver() == "postgres" {
		if err := gdb.Exec("TRUNCATE audit_log").Error; err == nil {
			t.Fatal("truncate of audit_log should be refused")
		}
	}
	// An unlinked entry may only be linked: its content cannot change,
	// and an entry cannot be inserted already linked.
	if err := l.Record(context.Background(), nil, audit.Entry{Action: "x", ObjectType: "y"}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Exec("UPDATE audit_log SET action = 'z' WHERE seq IS NULL").Error; err == nil {
		t.Fatal("editing an unlinked entry should be refused")
	}
	if err := gdb.Exec("UPDATE audit_log SET seq = 2, prev_hash = 'p', hash = 'h', details = '{}' || ' ' WHERE seq IS NULL").Error; err == nil {
		t.Fatal("linking while editing should be refused")
	}
	err := gdb.Exec("INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, request_id, ip, details, prev_hash, hash) VALUES (9, CURRENT_TIMESTAMP, 'a', 'a', 'x', 'y', '', '', '', '{}', 'p', 'h')").Error
	if err == nil || !strings.Contains(err.Error(), "unlinked") {
		t.Fatalf("inserting a linked entry should be refused, got %v", err)
	}
	link(t, l)
	if rep, err := l.Verify(context.Background()); err != nil || rep.Broken != nil || rep.Checked != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name, sql string
		seq       int64
		reason    string
	}{
		{"edited details", "UPDATE audit_log SET details = '{\"role\":\"admin\"}' WHERE seq = 3", 3, "does not match its hash"},
		{"edited actor", "UPDATE audit_log SET actor_id = 'someone' WHERE seq = 2", 2, "does not match its hash"},
		{"deleted row", "DELETE FROM audit_log WHERE seq = 4", 4, "missing"},
		{"rehashed row", "UPDATE audit_log SET hash = 'abc' WHERE seq = 2", 2, "does not match its hash"},
		{"reordered rows", "UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 5 WHEN 5 THEN 2 END WHERE seq IN (2, 5)", 2, "does not match its hash"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gdb, _ := dbtest.Open(t)
			l := audit.New(gdb)
			record(t, l, 6)
			disableAppendOnly(t, gdb)
			if tc.name == "reordered rows" {
				// Swap through a free position: the unique index on seq
				// holds at every statement on SQLite.
				for _, s := range []string{"UPDATE audit_log SET seq = 100 WHERE seq = 2", "UPDATE audit_log SET seq = 2 WHERE seq = 5", "UPDATE audit_log SET seq = 5 WHERE seq = 100"} {
					if err := gdb.Exec(s).Error; err != nil {
						t.Fatal(err)
					}
				}
			} else if err := gdb.Exec(tc.sql).Error; err != nil {
				t.Fatal(err)
			}
			rep, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || (p.Seq == tc.seq && strings.Contains(p.Reason, tc.reason))
			}
			if rep.Broken == nil || rep.Broken.Seq != tc.seq || !found {
				t.Fatalf("want break at %d (%s), got %+v", tc.seq, tc.reason, rep.Problems)
			}
		})
	}
}

// TestConcurrentWritersAllLinkedInOrder: many writers at once, with the
// chainer running beside them, as on several replicas: every entry ends up
// linked exactly once, at consecutive positions, and the chain verifies.
func TestConcurrentWritersAllLinkedInOrder(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	ctx := context.Background()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	stop := make(chan struct{})
	linked := make(chan error, 1)
	go func() {
		var err error
		for err == nil {
			select {
			case <-stop:
				linked <- nil
				return
			default:
			}
			_, err = l.Link(ctx)
		}
		linked <- err
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- gdb.Transaction(func(tx *gorm.DB) error {
					return l.Record(ctx, tx, audit.Entry{Action: "x", ObjectType: "y", ObjectID: fmt.Sprintf("%d-%d", w, i)})
				})
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	if err := <-linked; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	link(t, l)
	rep, err := l.Verify(ctx)
	if err != nil || rep.Broken != nil || rep.Checked != writers*each || rep.Unlinked != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	var rows []models.AuditEntry
	if err := gdb.Order("seq").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if r.Seq == nil || *r.Seq != int64(i+1) || seen[r.ObjectID] {
			t.Fatalf("entry %d (%s) at position %v", r.ID, r.ObjectID, r.Seq)
		}
		seen[r.ObjectID] = true
		// SQLite has one writer: ids commit in their order, and the chain
		// keeps it. (On PostgreSQL a later id may commit first; the chain
		// then holds the order the chainer found them in.)
		if dbtest.Driver() == "sqlite" && r.ID != int64(i+1) {
			t.Fatalf("position %d holds id %d", i+1, r.ID)
		}
	}
}

// TestLinkNeverSkipsALateCommit: an entry whose transaction drew its id
// first but commits after a later id was linked is linked at the next run,
// after it, and nothing is lost. Only PostgreSQL has transactions in
// flight beside a commit; SQLite's one writer commits ids in order.
func TestLinkNeverSkipsALateCommit(t *testing.T) {
	gdb, cfg := dbtest.Open(t)
	l := audit.New(gdb)
	ctx := context.Background()
	slow := gdb.Begin()
	if err := l.Record(ctx, slow, audit.Entry{Action: "slow", ObjectType: "y"}); err != nil {
		t.Fatal(err)
	}
	if dbtest.Driver() == "sqlite" {
		if err := slow.Commit().Error; err != nil {
			t.Fatal(err)
		}
	}
	other, err := db.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := other.DB(); err == nil {
			s.Close()
		}
	})
	l2 := audit.New(other)
	if err := l2.Record(ctx, nil, audit.Entry{Action: "fast", ObjectType: "y"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Link(ctx); err != nil {
		t.Fatal(err)
	}
	if dbtest.Driver() == "postgres" {
		if err := slow.Commit().Error; err != nil {
			t.Fatal(err)
		}
	}
	link(t, l)
	var rows []models.AuditEntry
	if err := gdb.Order("seq").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s:%d:%v", r.Action, r.ID, r.Seq != nil))
	}
	want := "slow:1:true fast:2:true"
	if dbtest.Driver() == "postgres" {
		want = "fast:2:true slow:1:true" // linked in the order they committed
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("chain order %v, want %s", got, want)
	}
	if rep, err := l.Verify(ctx); err != nil || rep.Broken != nil || rep.Checked != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestRecordRollsBackWithCallerTransaction(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	_ = gdb.Transaction(func(tx *gorm.DB) error {
		if err := l.Record(context.Background(), tx, audit.Entry{Action: "x", ObjectType: "y"}); err != nil {
			t.Fatal(err)
		}
		return fmt.Errorf("business change failed")
	})
	rows, _, err := l.List(context.Background(), audit.Filter{})
	if err != nil || len(rows) != 0 {
		t.Fatalf("entry should roll back with its transaction: %d rows, %v", len(rows), err)
	}
	// The rolled-back id leaves a gap in ids, never in the chain.
	record(t, l, 2)
	if rep, err := l.Verify(context.Background()); err != nil || rep.Broken != nil || rep.Checked != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	record(t, l, 7)
	_ = l.Record(context.Background(), nil, audit.Entry{Action: "session.login", ObjectType: "session"})
	rows, next, err := l.List(context.Background(), audit.Filter{ObjectType: "user", Limit: 5})
	if err != nil || len(rows) != 5 || next == 0 || rows[0].ID != 7 || *rows[0].Seq != 7 {
		t.Fatalf("first page: %d rows next=%d %v", len(rows), next, err)
	}
	rows, next, _ = l.List(context.Background(), audit.Filter{ObjectType: "user", Limit: 5, BeforeID: next})
	if len(rows) != 2 || next != 0 || rows[1].ID != 1 {
		t.Fatalf("second page: %d rows next=%d", len(rows), next)
	}
	rows, _, _ = l.List(context.Background(), audit.Filter{Action: "session."})
	if len(rows) != 1 || rows[0].ActorID != "system" || rows[0].Seq != nil {
		t.Fatalf("action filter (an unlinked entry is listed too): %+v", rows)
	}
}

// TestRecordManyContinuesTheChain: a batch written by RecordMany (between
// single entries) links entry to entry like Record, attributed to the
// actor, so Verify passes over the whole chain; an invalid entry writes
// nothing.
func TestRecordManyContinuesTheChain(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	record(t, l, 2)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "u2", Label: "b@example.org"})
	var es []audit.Entry
	for i := range 1203 { // more than one insert batch
		es = append(es, audit.Entry{Action: "story.create", ObjectType: "story", ObjectID: fmt.Sprint("s", i), Details: map[string]any{"revision": 1}})
	}
	if err := l.RecordMany(ctx, nil, es); err != nil {
		t.Fatal(err)
	}
	record(t, l, 1) // links the batch too
	rep, err := l.Verify(context.Background())
	if err != nil || rep.Broken != nil || rep.Checked != 1206 || rep.Unlinked != 0 {
		t.Fatalf("chain after a batch: %+v %v", rep, err)
	}
	var actors []string
	gdb.Raw("SELECT DISTINCT actor FROM audit_log WHERE action = 'story.create'").Scan(&actors)
	if len(actors) != 1 || actors[0] != "b@example.org" {
		t.Fatalf("batch entries attributed to %v", actors)
	}
	if err := l.RecordMany(ctx, nil, []audit.Entry{{Action: "x", ObjectType: "y"}, {Action: ""}}); err == nil {
		t.Fatal("an entry without an action was accepted")
	}
	link(t, l)
	if rep, _ := l.Verify(context.Background()); rep.Checked != 1206 || rep.Unlinked != 0 {
		t.Fatalf("a refused batch wrote entries: %d", rep.Checked)
	}
}
