package db_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// migratedTo opens a fresh database migrated up to version.
func migratedTo(t *testing.T, version int64) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(dbtest.NewEmpty(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateUpTo(context.Background(), gdb, version); err != nil {
		t.Fatal(err)
	}
	return gdb
}

// addStories writes a user u1, a patient p1 and stories (id, title, body)
// owned by them, in plain SQL so they can go in at any schema version.
func addStories(t *testing.T, gdb *gorm.DB, stories ...[3]string) {
	t.Helper()
	now := time.Now().UTC()
	if err := gdb.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES ('u1', 'a@b.test', 'A', 'storyteller', 'x', ?, ?)`, now, now).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.Exec(`INSERT INTO patients (id, full_name, created_by, created_at, updated_at) VALUES ('p1', 'P', 'u1', ?, ?)`, now, now).Error; err != nil {
		t.Fatal(err)
	}
	for _, st := range stories {
		if err := gdb.Exec(`INSERT INTO stories (id, slug, title, summary, body, channel_copy, owner_id, patient_id, stage, revision, created_at, updated_at)
			VALUES (?, ?, ?, '', ?, '{}', 'u1', 'p1', 'drafting', 1, ?, ?)`, st[0], st[0], st[1], st[2], now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestMemberBitsBackfill: stories that existed before migrations 63 and 66
// get exact member bits: each channel its own (channels.Bits), and the 63
// most used tags a bit each, in the tags table, the rest the overflow bit.
// The list's covering indexes hold them.
func TestMemberBitsBackfill(t *testing.T) {
	ctx := context.Background()
	gdb := migratedTo(t, 62)
	addStories(t, gdb, [3]string{"s1", "One", ""}, [3]string{"s2", "Two", ""}, [3]string{"s3", "Three", ""})
	many := []string{"('s2', 'cardiology')"}
	for i := 0; i < 63; i++ {
		many = append(many, fmt.Sprintf("('s2', 't%02d')", i))
	}
	for _, stmt := range []string{
		`INSERT INTO story_tags (story_id, tag) VALUES ('s1', 'cardiology'), ('s1', 'heart failure')`,
		`INSERT INTO story_tags (story_id, tag) VALUES ` + strings.Join(many, ", "),
		`INSERT INTO story_tags (story_id, tag) VALUES ('s3', 't62')`,
		`INSERT INTO story_channels (story_id, channel) VALUES ('s1', 'website'), ('s1', 'x'), ('s2', 'website'), ('s2', 'bluesky')`,
	} {
		if err := gdb.Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := db.Migrate(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	var tags []models.Tag
	if err := gdb.Find(&tags).Error; err != nil {
		t.Fatal(err)
	}
	bitOf := map[string]int{}
	for _, tg := range tags {
		if tg.Bit == nil {
			bitOf[tg.Tag] = -1
		} else {
			bitOf[tg.Tag] = *tg.Bit
		}
	}
	// Most used first (cardiology, t62: two stories each), then by name.
	if len(tags) != 65 || bitOf["cardiology"] != 0 || bitOf["t62"] != 1 || bitOf["heart failure"] != 2 || bitOf["t00"] != 3 || bitOf["t59"] != 62 || bitOf["t60"] != -1 || bitOf["t61"] != -1 {
		t.Fatalf("tag bits after the migration: %v", bitOf)
	}
	s2 := int64(1)<<0 | int64(1)<<1 | models.TagOverflowBit
	for b := 3; b <= 62; b++ {
		s2 |= 1 << b
	}
	want := map[string][2]int64{
		"s1": {1<<0 | 1<<2, channels.Bits("website", "x")},
		"s2": {s2, channels.Bits("website", "bluesky")},
		"s3": {1 << 1, 0},
	}
	if channels.Bits("website", "x") != 1|16 || channels.Bits("website", "bluesky") != 1|128 {
		t.Fatal("channels.Bits no longer gives the bits migration 66 stored")
	}
	var got []models.Story
	if err := gdb.Order("id").Find(&got).Error; err != nil {
		t.Fatal(err)
	}
	for _, st := range got {
		if w := want[st.ID]; st.TagBits != w[0] || st.ChannelBits != w[1] {
			t.Errorf("story %s: bits %x/%x, want %x/%x", st.ID, uint64(st.TagBits), st.ChannelBits, uint64(w[0]), w[1])
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d stories after the migration", len(got))
	}
}

// TestAnalyzeLeavesSearchUnsampled: Analyze gathers statistics (on SQLite,
// sqlite_stat4 samples for the stories table) but none for the full-text
// index's shadow tables, whose samples made SQLite re-plan FTS5's
// statements on every search.
func TestAnalyzeLeavesSearchUnsampled(t *testing.T) {
	ctx := context.Background()
	gdb, _ := dbtest.Open(t)
	var rows [][3]string
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("s%03d", i)
		rows = append(rows, [3]string{id, "Story " + id, fmt.Sprintf("recovery walking surgery word%d", i%17)})
	}
	addStories(t, gdb, rows...)
	if err := db.Analyze(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	if db.Dialect(gdb) == "postgres" {
		var analyzed int64
		gdb.Raw("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'stories' AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL").Scan(&analyzed)
		if analyzed != 1 {
			t.Fatal("stories was not vacuumed and analyzed")
		}
		return
	}
	var stories, fts int64
	gdb.Raw("SELECT count(*) FROM sqlite_stat4 WHERE tbl = 'stories'").Scan(&stories)
	gdb.Raw("SELECT count(*) FROM sqlite_stat4 WHERE tbl LIKE 'stories_fts%'").Scan(&fts)
	if stories == 0 || fts != 0 {
		t.Fatalf("sqlite_stat4 samples: %d for stories (want some), %d for the full-text tables (want none)", stories, fts)
	}
}

// TestSearchPrefixIndex: after migration 65, SQLite's full-text index keeps
// 3- and 4-character prefixes and still holds the stories written before
// it (the rebuild), so a prefix search finds an old story; on PostgreSQL
// the migration changes nothing and the same search still works.
func TestSearchPrefixIndex(t *testing.T) {
	ctx := context.Background()
	gdb := migratedTo(t, 64)
	addStories(t, gdb, [3]string{"s1", "Her surgery", "A long recovery."})
	if _, err := db.Migrate(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	var n int64
	if db.Dialect(gdb) == "postgres" { // nothing to rebuild: the tsvector search answers prefixes as before
		gdb.Raw(`SELECT count(*) FROM story_search WHERE search @@ to_tsquery('english', 'surg:*')`).Scan(&n)
		if n != 1 {
			t.Fatalf("a prefix search finds %d stories, want 1", n)
		}
		return
	}
	var ddl string
	gdb.Raw("SELECT sql FROM sqlite_schema WHERE name = 'stories_fts'").Scan(&ddl)
	if !strings.Contains(ddl, "prefix='3 4'") {
		t.Fatalf("full-text table: %s", ddl)
	}
	gdb.Raw(`SELECT count(*) FROM stories_fts WHERE stories_fts MATCH '"surg"*'`).Scan(&n)
	if n != 1 {
		t.Fatalf("a prefix search finds %d stories written before the rebuild, want 1", n)
	}
}

// TestPatientNamePrefixesBackfill: patients that existed before migration
// 69 get their names' word beginnings in the name search's index, each once.
func TestPatientNamePrefixesBackfill(t *testing.T) {
	ctx := context.Background()
	gdb := migratedTo(t, 68)
	addStories(t, gdb)
	now := time.Now().UTC()
	for id, name := range map[string]string{"p2": "Ana Lopez  Lopes", "p3": "José Núñez", "p4": ""} {
		if err := gdb.Exec(`INSERT INTO patients (id, full_name, name_key, created_by, created_at, updated_at) VALUES (?, ?, ?, 'u1', ?, ?)`,
			id, name, strings.ToLower(name), now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	var rows []models.PatientNamePrefix
	if err := gdb.Order("patient_id, prefix").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range rows {
		if r.NameKey != map[string]string{"p2": "ana lopez  lopes", "p3": "josé núñez"}[r.PatientID] {
			t.Fatalf("row %+v has the wrong name key", r)
		}
		got[r.PatientID] = append(got[r.PatientID], r.Prefix)
	}
	// p1 (addStories' patient) and p4 have empty name keys: no rows.
	want := map[string]string{"p2": "a an ana l lo lop lope lopes lopez", "p3": "j jo jos josé n nú núñ núñe núñez"}
	if len(got) != len(want) {
		t.Fatalf("index rows after the migration: %v", got)
	}
	for id, w := range want {
		if strings.Join(got[id], " ") != w {
			t.Errorf("%s: %v, want %s", id, got[id], w)
		}
	}
}

// TestStorySearchBackfill: on PostgreSQL, migration 70 moves the search out
// of stories into story_search, with the stories already there (their
// words, stage and bits), and from then on a trigger writes it: a new
// story, new words, a new stage. SQLite keeps its full-text table and gets
// no story_search.
func TestStorySearchBackfill(t *testing.T) {
	ctx := context.Background()
	gdb := migratedTo(t, 69)
	addStories(t, gdb, [3]string{"s1", "Her surgery", "A long recovery."}, [3]string{"s2", "Twins", "Born early."})
	if err := gdb.Exec(`UPDATE stories SET stage = 'in_review', tag_bits = 5, channel_bits = 2 WHERE id = 's1'`).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	if db.Dialect(gdb) != "postgres" {
		if gdb.Migrator().HasTable("story_search") {
			t.Fatal("SQLite has no use for story_search")
		}
		return
	}
	if gdb.Migrator().HasColumn("stories", "search") {
		t.Fatal("stories still has its search column")
	}
	type row struct {
		StoryID, Stage, Title string
		TagBits, ChannelBits  int64
	}
	find := func(word string) (rows []row) {
		t.Helper()
		if err := gdb.Raw(`SELECT story_id, stage, title, tag_bits, channel_bits FROM story_search WHERE search @@ to_tsquery('english', ?) ORDER BY story_id`, word).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if got := find("recovery"); !slices.Equal(got, []row{{"s1", "in_review", "Her surgery", 5, 2}}) {
		t.Fatalf("a story from before the migration: %+v", got)
	}
	addMore := `INSERT INTO stories (id, slug, title, summary, body, channel_copy, owner_id, patient_id, stage, revision, created_at, updated_at)
		VALUES ('s3', 's3', 'A marathon', 'After the transplant', '', '{}', 'u1', 'p1', 'drafting', 1, now(), now())`
	for _, stmt := range []string{addMore,
		`UPDATE stories SET body = 'Born early, now running.', stage = 'approved' WHERE id = 's2'`,
		`UPDATE stories SET stage = 'published', tag_bits = 1 WHERE id = 's1'`} {
		if err := gdb.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	for word, want := range map[string][]row{
		"transplant": {{"s3", "drafting", "A marathon", 0, 0}},
		"run":        {{"s2", "approved", "Twins", 0, 0}},
		"recovery":   {{"s1", "published", "Her surgery", 1, 2}},
		"born":       {{"s2", "approved", "Twins", 0, 0}},
	} {
		if got := find(word); !slices.Equal(got, want) {
			t.Errorf("%s: %+v, want %+v", word, got, want)
		}
	}
}
