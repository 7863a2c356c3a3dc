package db

import (
	"context"

	"gorm.io/gorm"
)

// MigrateUpTo applies migrations up to and including version, for tests of
// a migration's backfill.
func MigrateUpTo(ctx context.Context, gdb *gorm.DB, version int64) error {
	p, err := provider(gdb)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
