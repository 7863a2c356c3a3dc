package db_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

// previousRelease is the last migration of the previous release's schema.
const previousRelease = 67

// upgradeID is the value of every text column the filler writes, so each
// foreign key finds the row it names in the table it references.
const upgradeID = "00000000-0000-4000-8000-000000000001"

// TestUpgradeFromPreviousRelease: a database built by the previous release's
// migrations, with a row in every table and a real audit chain, migrates to
// the current schema; every row and value still reads back, the current
// models load, and audit verify passes.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	ctx := context.Background()
	dbc := dbtest.NewEmpty(t)
	gdb, err := db.Open(dbc)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateUpTo(ctx, gdb, previousRelease); err != nil {
		t.Fatal(err)
	}
	writePreviousReleaseChain(t, gdb, 3)
	tables := userTables(t, gdb)
	fillEveryTable(t, gdb, tables)
	before := map[string]map[string]string{}
	for _, tb := range tables {
		before[tb] = firstRow(t, gdb, tb)
	}

	if _, err := db.Migrate(ctx, gdb); err != nil {
		t.Fatalf("upgrading from %05d: %v", previousRelease, err)
	}
	// The upgraded server starts afresh: new connections, no statements
	// prepared against the old schema.
	if s, err := gdb.DB(); err == nil {
		s.Close()
	}
	if gdb, err = db.Open(dbc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	})
	log := audit.New(gdb)
	if err := db.CheckCurrent(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	// Dropped on purpose: PostgreSQL's generated search column moved to
	// story_search (migration 70), which must then hold the story.
	dropped := map[string]bool{"stories.search": true, "consent_requests.revoke_token_sealed": true}
	for _, tb := range tables {
		after := firstRow(t, gdb, tb)
		for col, v := range before[tb] {
			if dropped[tb+"."+col] {
				continue
			}
			if got, ok := after[col]; !ok || got != v {
				t.Errorf("%s.%s: %q before the upgrade, %q (present %v) after", tb, col, v, got, ok)
			}
		}
	}
	var searchRows int64
	if err := gdb.Table("story_search").Count(&searchRows).Error; db.Dialect(gdb) == "postgres" && (err != nil || searchRows != 1) {
		t.Errorf("story_search after the upgrade: %d rows, %v", searchRows, err)
	}
	// The current models read the old rows.
	for _, dest := range []any{&[]models.User{}, &[]models.Patient{}, &[]models.Story{}, &[]models.MediaAsset{}, &[]models.WebsitePublication{}} {
		if err := gdb.Find(dest).Error; err != nil {
			t.Errorf("reading %T after the upgrade: %v", dest, err)
		}
	}
	rep, err := log.Verify(ctx)
	if err != nil || rep.Broken != nil || rep.Checked != 3 {
		t.Fatalf("audit verify after the upgrade: %v %+v", err, rep)
	}
	// New entries are appended unlinked and linked after the old ones:
	// one chain across the upgrade.
	for i := 0; i < 2; i++ {
		if err := log.Record(ctx, nil, audit.Entry{Action: "story.update", ObjectType: "story", ObjectID: upgradeID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Link(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err = log.Verify(ctx)
	if err != nil || rep.Broken != nil || rep.Checked != 5 || rep.Unlinked != 0 {
		t.Fatalf("audit verify after new entries: %v %+v", err, rep)
	}
	var ids []int64
	if err := gdb.Model(&models.AuditEntry{}).Order("seq").Pluck("id", &ids).Error; err != nil || fmt.Sprint(ids) != "[1 2 3 4 5]" {
		t.Fatalf("ids in chain order: %v %v", ids, err)
	}
}

// writePreviousReleaseChain appends n entries as the previous release
// did: each written with its chain position and hashes at once.
func writePreviousReleaseChain(t *testing.T, gdb *gorm.DB, n int) {
	t.Helper()
	prev := ""
	for i := 1; i <= n; i++ {
		seq := int64(i)
		e := models.AuditEntry{Seq: &seq, At: time.Date(2026, 11, 30, 12, 0, i, 123456000, time.UTC), ActorID: "system", Actor: "system",
			Action: "story.create", ObjectType: "story", ObjectID: upgradeID, Details: fmt.Sprintf(`{"n":%d}`, i), PrevHash: &prev}
		h := audit.Hash(e)
		if err := gdb.Exec("INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, request_id, ip, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			seq, e.At, e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, "", "", e.Details, prev, h).Error; err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

// userTables lists the application's tables: not goose's, not SQLite's own,
// not the full-text index's shadow tables, and not the audit log, which
// holds real entries (its hash chain would not verify with made-up rows).
func userTables(t *testing.T, gdb *gorm.DB) []string {
	t.Helper()
	all, err := gdb.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tb := range all {
		if strings.HasPrefix(tb, "sqlite_") || strings.HasPrefix(tb, "goose_") || strings.Contains(tb, "_fts") || tb == "audit_log" {
			continue
		}
		out = append(out, tb)
	}
	sort.Strings(out)
	if len(out) < 20 {
		t.Fatalf("only %d tables found: %v", len(out), out)
	}
	return out
}

// fillEveryTable writes one row in each empty table, every column set from its
// type; tables whose foreign keys are not yet satisfied are retried after
// the others, until every table has its row.
func fillEveryTable(t *testing.T, gdb *gorm.DB, tables []string) {
	t.Helper()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	pending := append([]string(nil), tables...)
	errs := map[string]error{}
	for pass := 0; pass <= len(tables) && len(pending) > 0; pass++ {
		var next []string
		for _, tb := range pending {
			var n int64
			if err := gdb.Table(tb).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				continue // seeded by the migrations (casbin_rule's policies)
			}
			cols, err := gdb.Migrator().ColumnTypes(tb)
			if err != nil {
				t.Fatal(err)
			}
			row := map[string]any{}
			for _, c := range cols {
				if def, ok := c.DefaultValue(); ok && strings.Contains(def, "nextval") {
					continue
				}
				if strings.EqualFold(c.DatabaseTypeName(), "tsvector") {
					continue // PostgreSQL's generated search column
				}
				row[c.Name()] = valueFor(c.DatabaseTypeName(), now)
			}
			if err := gdb.Table(tb).Create(row).Error; err != nil {
				errs[tb] = err
				next = append(next, tb)
				continue
			}
			delete(errs, tb)
		}
		pending = next
	}
	for tb, err := range errs {
		t.Errorf("no row in %s: %v", tb, err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func valueFor(dbType string, now time.Time) any {
	switch ty := strings.ToLower(dbType); {
	case strings.Contains(ty, "bool"):
		return true
	case strings.Contains(ty, "int"):
		return 1
	case strings.Contains(ty, "real"), strings.Contains(ty, "double"), strings.Contains(ty, "float"), strings.Contains(ty, "numeric"):
		return 1.5
	case strings.Contains(ty, "time"), strings.Contains(ty, "date"):
		return now
	case strings.Contains(ty, "json"):
		return "{}"
	case strings.Contains(ty, "bytea"), strings.Contains(ty, "blob"):
		return []byte{1, 2, 3}
	case strings.Contains(ty, "inet"):
		return "192.0.2.1"
	}
	return upgradeID
}

// firstRow reads a table's row as text per column.
func firstRow(t *testing.T, gdb *gorm.DB, table string) map[string]string {
	t.Helper()
	var rows []map[string]any
	if err := gdb.Table(table).Limit(1).Find(&rows).Error; err != nil {
		t.Fatalf("reading %s: %v", table, err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s is empty", table)
	}
	out := map[string]string{}
	for k, v := range rows[0] {
		switch v := v.(type) {
		case []byte:
			out[k] = string(v)
		case time.Time:
			out[k] = v.UTC().Format(time.RFC3339Nano)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}
