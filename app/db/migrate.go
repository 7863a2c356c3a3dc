package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/migrations"
)

// ErrSchemaTooNew means the database was migrated by a newer Storykeep; this
// binary refuses to run against it rather than misread data it does not know.
var ErrSchemaTooNew = errors.New("database schema is newer than this Storykeep")

func provider(gdb *gorm.DB) (*goose.Provider, error) {
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	dialect := Dialect(gdb)
	opts := []goose.ProviderOption{goose.WithGoMigrations(migrations.GoMigrations(dialect)...)}
	gd := goose.DialectSQLite3
	if dialect == "postgres" {
		gd = goose.DialectPostgres
		// Several replicas may start at once; only one migrates at a time.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gd, sqlDB, migrations.FS, opts...)
}

// Migrate applies every pending migration and returns how many ran. It
// refuses to touch a database whose schema is newer than this binary knows.
func Migrate(ctx context.Context, gdb *gorm.DB) (int, error) {
	p, err := provider(gdb)
	if err != nil {
		return 0, err
	}
	if err := checkNotNewer(ctx, p); err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("applying migrations: %w", err)
	}
	return len(res), nil
}

// CheckCurrent returns an error unless every migration this binary knows has
// been applied and none is unknown.
func CheckCurrent(ctx context.Context, gdb *gorm.DB) error {
	p, err := provider(gdb)
	if err != nil {
		return err
	}
	if err := checkNotNewer(ctx, p); err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("database has pending migrations: run 'storykeep migrate up'")
	}
	return nil
}

func checkNotNewer(ctx context.Context, p *goose.Provider) error {
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	sources := p.ListSources()
	known := int64(0)
	if n := len(sources); n > 0 {
		known = sources[n-1].Version
	}
	if current > known {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade Storykeep", ErrSchemaTooNew, current, known)
	}
	return nil
}

// MigrationStatus is one line of `storykeep migrate status`.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
	At      string
}

// Status lists every known migration and whether it has been applied.
func Status(ctx context.Context, gdb *gorm.DB) ([]MigrationStatus, error) {
	p, err := provider(gdb)
	if err != nil {
		return nil, err
	}
	if err := checkNotNewer(ctx, p); err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		m := MigrationStatus{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
		if m.Applied {
			m.At = s.AppliedAt.UTC().Format("2006-01-02 15:04:05")
		}
		out = append(out, m)
	}
	return out, nil
}
