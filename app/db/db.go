// Package db opens Storykeep's database (pure-Go SQLite by default, PostgreSQL
// when configured) and applies the embedded migrations, so the same code and
// schema run on a laptop and on a replicated deployment.
package db

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/storykeep/storykeep/app/config"
)

// Open connects to the configured database. SQLite gets WAL, a busy timeout,
// foreign keys and a single connection, because SQLite allows one writer at a
// time and a single connection turns lock contention into queueing.
func Open(cfg config.DB) (*gorm.DB, error) {
	gcfg := gormConfig()
	var (
		gdb *gorm.DB
		err error
	)
	switch cfg.Driver {
	case "sqlite":
		if dir := filepath.Dir(cfg.DSN); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("creating database directory %s: %w", dir, err)
			}
		}
		dsn := cfg.DSN + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
			"&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
		gdb, err = openSQLite(dsn, gcfg, false)
		if err != nil {
			return nil, fmt.Errorf("opening SQLite database %s: %w", cfg.DSN, err)
		}
		sqlDB, _ := gdb.DB()
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
	case "postgres":
		gdb, err = gorm.Open(postgres.Open(cfg.DSN), gcfg)
		if err != nil {
			return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
		}
		sqlDB, _ := gdb.DB()
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	default:
		return nil, fmt.Errorf("unknown database driver %q", cfg.Driver)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sqlDB, _ := gdb.DB()
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("database %s is not reachable: %w", cfg.Driver, err)
	}
	return gdb, nil
}

// OpenReader returns a read-only pool of up to conns connections for
// SQLite, whose main handle has a single connection: in WAL mode readers do
// not block the writer or each other, so lists and searches can use every
// core. query_only makes any write through it fail. For PostgreSQL the main
// pool already serves many readers, and OpenReader returns nil.
func OpenReader(cfg config.DB, conns int) (*gorm.DB, error) {
	if cfg.Driver != "sqlite" {
		return nil, nil
	}
	gdb, err := openSQLite(cfg.DSN+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_time_format=sqlite", gormConfig(), true)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite database %s for reading: %w", cfg.DSN, err)
	}
	sqlDB, _ := gdb.DB()
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	return gdb, nil
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		// Parameters are never logged: they can carry patient details.
		Logger: logger.New(log.New(os.Stderr, "", log.LstdFlags), logger.Config{
			SlowThreshold:             500 * time.Millisecond,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true,
		}),
		TranslateError: true,
	}
}

// Dialect names the SQL dialect of an open database: "sqlite" or "postgres".
func Dialect(gdb *gorm.DB) string {
	if gdb.Dialector.Name() == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// Ping reports whether the database answers, for /readyz.
func Ping(ctx context.Context, gdb *gorm.DB) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Analyze refreshes the planner's statistics after a bulk load. PostgreSQL
// also gets the VACUUM autovacuum would run soon after: until then its
// index-only scans still visit the table for every row.
//
// On SQLite, ANALYZE also samples the full-text index's shadow tables
// (sqlite_stat4). FTS5 reads its index through statements it keeps
// prepared, binding a new term each time; with samples for their table,
// SQLite re-plans such a statement on every new binding, which was a fifth
// of a search's time. Those samples are dropped, and the statistics
// reloaded, so search keeps its prepared statements.
func Analyze(ctx context.Context, gdb *gorm.DB) error {
	db := gdb.WithContext(ctx)
	if Dialect(gdb) == "postgres" {
		return db.Exec("VACUUM (ANALYZE)").Error
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		return err
	}
	var stat4 int64
	if err := db.Raw("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'").Scan(&stat4).Error; err != nil || stat4 == 0 {
		return err
	}
	if err := db.Exec("DELETE FROM sqlite_stat4 WHERE tbl LIKE 'stories\\_fts\\_%' ESCAPE '\\'").Error; err != nil {
		return err
	}
	return db.Exec("ANALYZE sqlite_schema").Error
}
