package db_test

import (
	"path/filepath"
	"testing"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
)

// TestSQLiteReaderSeesCommitsAndCannotWrite: the read pool sees what the
// writer committed, reads while the writer holds a transaction open, and
// refuses writes of its own.
func TestSQLiteReaderSeesCommitsAndCannotWrite(t *testing.T) {
	cfg := config.DB{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "r.db")}
	w, err := db.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.OpenReader(cfg, 2)
	if err != nil || r == nil {
		t.Fatalf("reader: %v", err)
	}
	if err := w.Exec("CREATE TABLE t (n INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	if err := w.Exec("INSERT INTO t VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	tx := w.Begin()
	if err := tx.Exec("INSERT INTO t VALUES (2)").Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := r.Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("reader during an open write: %d rows, %v (want the 1 committed)", n, err)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := r.Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("reader after commit: %d rows, %v", n, err)
	}
	if err := r.Exec("INSERT INTO t VALUES (3)").Error; err == nil {
		t.Fatal("the read pool accepted a write")
	}
	if pg, err := db.OpenReader(config.DB{Driver: "postgres", DSN: "unused"}, 2); pg != nil || err != nil {
		t.Fatal("PostgreSQL needs no separate reader")
	}
}
