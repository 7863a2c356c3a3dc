package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func record(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "u1", Label: "a@example.org", IP: "192.0.2.1", RequestID: "r1"})
	for i := 0; i < n; i++ {
		if err := l.Record(ctx, nil, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: fmt.Sprint(i), Details: map[string]any{"role": "storyteller"}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyFreshAndAfterWrites(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	rep, err := l.Verify(context.Background())
	if err != nil || rep.Broken != nil || rep.Checked != 0 {
		t.Fatalf("fresh database: %+v %v", rep, err)
	}
	record(t, l, 5)
	rep, err = l.Verify(context.Background())
	if err != nil || rep.Broken != nil || rep.Checked != 5 || rep.Head == "" {
		t.Fatalf("after 5 writes: %+v %v", rep, err)
	}
}

// disableAppendOnly removes the database guard, as someone with direct
// database access could, to prove the hash chain still catches the edit.
func disableAppendOnly(t *testing.T, gdb *gorm.DB) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
	if dbtest.Driver() == "postgres" {
		stmts = []string{"DROP TRIGGER audit_log_no_update ON audit_log"}
	}
	for _, s := range stmts {
		if err := gdb.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendOnlyAtDatabaseLevel(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	record(t, audit.New(gdb), 1)
	if err := gdb.Exec("UPDATE audit_log SET action = 'x'").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of audit_log should be refused, got %v", err)
	}
	if err := gdb.Exec("DELETE FROM audit_log").Error; err == nil {
		t.Fatal("delete of audit_log should be refused")
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gdb, _ := dbtest.Open(t)
			l := audit.New(gdb)
			record(t, l, 6)
			disableAppendOnly(t, gdb)
			if err := gdb.Exec(tc.sql).Error; err != nil {
				t.Fatal(err)
			}
			rep, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Broken == nil || rep.Broken.Seq != tc.seq || !strings.Contains(rep.Broken.Reason, tc.reason) {
				t.Fatalf("want break at %d (%s), got %+v", tc.seq, tc.reason, rep.Broken)
			}
		})
	}
}

func TestConcurrentWritersKeepOneChain(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				errs <- l.Record(context.Background(), nil, audit.Entry{Action: "x", ObjectType: "y"})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := l.Verify(context.Background())
	if err != nil || rep.Broken != nil || rep.Checked != 40 {
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
}

func TestListFiltersAndPages(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	l := audit.New(gdb)
	record(t, l, 7)
	_ = l.Record(context.Background(), nil, audit.Entry{Action: "session.login", ObjectType: "session"})
	rows, next, err := l.List(context.Background(), audit.Filter{ObjectType: "user", Limit: 5})
	if err != nil || len(rows) != 5 || next == 0 || rows[0].Seq != 7 {
		t.Fatalf("first page: %d rows next=%d %v", len(rows), next, err)
	}
	rows, next, _ = l.List(context.Background(), audit.Filter{ObjectType: "user", Limit: 5, BeforeSeq: next})
	if len(rows) != 2 || next != 0 || rows[1].Seq != 1 {
		t.Fatalf("second page: %d rows next=%d", len(rows), next)
	}
	rows, _, _ = l.List(context.Background(), audit.Filter{Action: "session."})
	if len(rows) != 1 || rows[0].ActorID != "system" {
		t.Fatalf("action filter: %+v", rows)
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
	record(t, l, 1)
	rep, err := l.Verify(context.Background())
	if err != nil || rep.Broken != nil || rep.Checked != 1206 {
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
	if rep, _ := l.Verify(context.Background()); rep.Checked != 1206 {
		t.Fatalf("a refused batch wrote entries: %d", rep.Checked)
	}
}
