package db

import (
	"database/sql"
	"errors"
	"time"

	gormsqlite "github.com/libtnb/sqlite"
	"gorm.io/gorm"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite runs on modernc.org/sqlite, a pure-Go translation of SQLite (no
// cgo, so `go run` needs no C toolchain). Unlike the glebarez fork of it
// used before, its driver keeps a statement compiled once prepared; with
// GORM's PrepareStmt each connection compiles a query once instead of on
// every call, which was a fifth of a page's CPU time.
//
// The SQL dialect comes from github.com/libtnb/sqlite, the maintained
// successor of glebarez/sqlite: GORM's own SQLite dialector rebased on
// modernc.org/sqlite. GORM's stock gorm.io/driver/sqlite imports
// mattn/go-sqlite3, which made every build with gcc present compile a C
// SQLite (minutes) that was never used. The dialector is handed a pool
// opened through modernc's connector, and sqliteDialector keeps the error
// translation this package has always had (constraint errors only).
//
// With PrepareStmt, GORM's Row() returns an empty row when the prepare
// fails (a closed database, a bad query) and Scan then panics: read single
// rows with Rows(), Scan or First instead.
//
// The writer handle (one connection) does not use PrepareStmt: GORM's
// statement cache waits for a statement being prepared while holding its
// read lock, so a query preparing outside a transaction (waiting for the
// one connection) and a transaction preparing a new statement (holding the
// connection, waiting for the cache's write lock) deadlocked every job
// worker under load (found by the delivery load test; see
// TestWriterDoesNotDeadlockOnPrepare). The read-only pool keeps it.
type sqliteDialector struct{ gormsqlite.Dialector }

func openSQLite(dsn string, cfg *gorm.Config, prepare bool) (*gorm.DB, error) {
	conn, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	pool := sql.OpenDB(conn)
	cfg.PrepareStmt = prepare
	// Compiled statements are per connection; a few hundred distinct
	// queries cover every page, and rarely used ones are let go.
	cfg.PrepareStmtMaxSize = 512
	cfg.PrepareStmtTTL = time.Hour
	gdb, err := gorm.Open(sqliteDialector{gormsqlite.Dialector{DriverName: "sqlite", Conn: pool}}, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return gdb, nil
}

// Translate maps SQLite's constraint errors to GORM's, so callers test
// errors.Is(err, gorm.ErrDuplicatedKey) on either database.
func (sqliteDialector) Translate(err error) error {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return gorm.ErrDuplicatedKey
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return gorm.ErrForeignKeyViolated
	}
	return err
}
