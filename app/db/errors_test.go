package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
)

// Finding (fault runs §4): "terminating connection due to administrator
// command" (SQLSTATE 57P01) during a PostgreSQL restart answered 500.
func TestF4ConnectionLossIsUnavailable(t *testing.T) {
	for _, err := range []error{
		&pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"},
		fmt.Errorf("audit: lock: %w", &pgconn.PgError{Code: "57P01"}),
		&pgconn.PgError{Code: "57P03", Message: "the database system is starting up"},
		&pgconn.PgError{Code: "08006"},
		errors.New("failed to connect to `user=x database=y`: dial error"),
		errors.New("sql: database is closed"),
		context.DeadlineExceeded,
	} {
		if !db.IsUnavailable(err) {
			t.Errorf("%v: not recognised as the database being unavailable", err)
		}
	}
	for _, err := range []error{
		&pgconn.PgError{Code: "23505", Message: "duplicate key"},
		&pgconn.PgError{Code: "40001"},
		errors.New("record not found"),
		nil,
	} {
		if db.IsUnavailable(err) {
			t.Errorf("%v: taken for the database being unavailable", err)
		}
	}
}

// On PostgreSQL, a backend terminated by an administrator gives an error
// that IsUnavailable recognises (on SQLite: a closed database).
func TestF4TerminatedBackendIsUnavailable(t *testing.T) {
	gdb, cfg := dbtest.Open(t)
	victim, err := db.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := victim.DB()
	defer sqlDB.Close()
	ctx := context.Background()
	if db.Dialect(gdb) != "postgres" {
		sqlDB.Close()
		if err := victim.Exec("SELECT 1").Error; !db.IsUnavailable(err) {
			t.Fatalf("closed SQLite database: %v", err)
		}
		return
	}
	sqlDB.SetMaxOpenConns(1)
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "SELECT 1")
	if err == nil || !db.IsUnavailable(err) {
		t.Fatalf("query on a terminated backend: %v (unavailable=%v)", err, db.IsUnavailable(err))
	}
}
