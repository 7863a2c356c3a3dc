package db

import (
	"database/sql"
	"errors"
	"time"

	gormsqlite "gorm.io/driver/sqlite"
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
// GORM's own SQLite dialector (gorm.io/driver/sqlite) provides the SQL
// dialect; it is handed a pool opened through modernc's connector, and
// sqliteDialector translates modernc's errors, which the stock dialector
// reads only from mattn/go-sqlite3's error type.
//
// With PrepareStmt, GORM's Row() returns an empty row when the prepare
// fails (a closed database, a bad query) and Scan then panics: read single
// rows with Rows(), Scan or First instead.
type sqliteDialector struct{ gormsqlite.Dialector }

func openSQLite(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	conn, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	pool := sql.OpenDB(conn)
	cfg.PrepareStmt = true
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
