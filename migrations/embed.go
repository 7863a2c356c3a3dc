// Package migrations holds Storykeep's versioned schema. The SQL files use
// types both SQLite and PostgreSQL accept (TEXT ids, BIGINT, BOOLEAN,
// TIMESTAMP in UTC); the few statements that cannot be written once for both
// are Go migrations below that pick the dialect's spelling.
package migrations

import (
	"context"
	"database/sql"
	"embed"

	"github.com/pressly/goose/v3"
)

// FS holds the SQL migrations, embedded so the binary carries its schema.
//
//go:embed *.sql
var FS embed.FS

// GoMigrations returns the dialect-specific migrations for "sqlite" or "postgres".
func GoMigrations(dialect string) []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(2, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, casbinAndAppendOnly(dialect)...)
		}}, nil),
		goose.NewGoMigration(21, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, storiesSearch(dialect)...)
		}}, nil),
		goose.NewGoMigration(63, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return storiesMemberBits(ctx, tx, dialect)
		}}, nil),
		goose.NewGoMigration(65, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, storiesSearchPrefixes(dialect)...)
		}}, nil),
		goose.NewGoMigration(68, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, storiesSearchMembers(dialect)...)
		}}, nil),
		goose.NewGoMigration(69, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return patientNamePrefixes(ctx, tx, dialect)
		}}, nil),
		goose.NewGoMigration(70, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, storySearchTable(dialect)...)
		}}, nil),
		goose.NewGoMigration(120, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, publicCacheChanges(dialect)...)
		}}, nil),
		goose.NewGoMigration(130, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, auditChainLinked(dialect)...)
		}}, nil),
		goose.NewGoMigration(150, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return revokeTokensHashOnly(ctx, tx, dialect)
		}}, nil),
		goose.NewGoMigration(181, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx, storySearchStage(dialect)...)
		}}, nil),
	}
}

// casbinAndAppendOnly creates the Casbin policy table (whose auto-increment id
// is spelled differently per dialect) and the triggers that make the audit log
// append-only at the database level.
func casbinAndAppendOnly(dialect string) []string {
	if dialect == "postgres" {
		return []string{
			`CREATE TABLE casbin_rule (id BIGSERIAL PRIMARY KEY, ptype VARCHAR(100), v0 VARCHAR(100), v1 VARCHAR(100), v2 VARCHAR(100), v3 VARCHAR(100), v4 VARCHAR(100), v5 VARCHAR(100))`,
			`CREATE UNIQUE INDEX idx_casbin_rule ON casbin_rule (ptype, v0, v1, v2, v3, v4, v5)`,
			`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
			`CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
		}
	}
	return []string{
		`CREATE TABLE casbin_rule (id INTEGER PRIMARY KEY AUTOINCREMENT, ptype VARCHAR(100), v0 VARCHAR(100), v1 VARCHAR(100), v2 VARCHAR(100), v3 VARCHAR(100), v4 VARCHAR(100), v5 VARCHAR(100))`,
		`CREATE UNIQUE INDEX idx_casbin_rule ON casbin_rule (ptype, v0, v1, v2, v3, v4, v5)`,
		`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
		`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
	}
}

func execAll(ctx context.Context, tx *sql.Tx, stmts ...string) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
