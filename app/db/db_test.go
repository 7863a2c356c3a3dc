package db_test

import (
	"errors"
	"path/filepath"
	"runtime/debug"
	"testing"

	"gorm.io/gorm"

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

// TestSQLiteConstraintErrorsAndPreparedStatements: SQLite's constraint
// errors reach callers as GORM's (the dialector translates modernc's error
// codes), and the read-only pool keeps statements prepared while the
// one-connection writer does not (TestWriterDoesNotDeadlockOnPrepare).
func TestSQLiteConstraintErrorsAndPreparedStatements(t *testing.T) {
	for name, open := range map[string]func(config.DB) (*gorm.DB, error){
		"writer": db.Open,
		"reader": func(c config.DB) (*gorm.DB, error) { return db.OpenReader(c, 1) },
	} {
		wantPrepared := name == "reader"
		cfg := config.DB{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "c.db")}
		if _, err := db.Open(cfg); err != nil {
			t.Fatal(err)
		}
		g, err := open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := g.ConnPool.(*gorm.PreparedStmtDB); ok != wantPrepared {
			t.Errorf("%s: statements kept prepared: %v, want %v (%T)", name, ok, wantPrepared, g.ConnPool)
		}
	}
	w, err := db.Open(config.DB{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "k.db")})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE p (id TEXT PRIMARY KEY, slug TEXT UNIQUE)", "CREATE TABLE c (p_id TEXT REFERENCES p(id))", "INSERT INTO p VALUES ('a', 'x')"} {
		if err := w.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]error{
		"INSERT INTO p VALUES ('a', 'y')": gorm.ErrDuplicatedKey,
		"INSERT INTO p VALUES ('b', 'x')": gorm.ErrDuplicatedKey,
		"INSERT INTO c VALUES ('zz')":     gorm.ErrForeignKeyViolated,
	} {
		if err := w.Exec(q).Error; !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", q, err, want)
		}
	}
	if err := w.Exec("INSERT INTO p VALUES ('b', 'y')").Error; err != nil {
		t.Fatalf("a valid row after the refusals: %v", err)
	}
}

// TestF3NoCgoSQLite: SQLite stays pure Go. gorm.io/driver/sqlite brought in
// mattn/go-sqlite3, whose C SQLite took minutes to compile on a first
// `go run` wherever gcc was installed, and was never used.
func TestF3NoCgoSQLite(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info in the test binary")
	}
	for _, m := range bi.Deps {
		if m.Path == "github.com/mattn/go-sqlite3" || m.Path == "gorm.io/driver/sqlite" {
			t.Errorf("%s is linked in: SQLite must come from modernc.org/sqlite only", m.Path)
		}
	}
}
