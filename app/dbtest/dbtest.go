// Package dbtest gives each test a fresh, migrated database: a SQLite file by
// default, or a new PostgreSQL database when STORYKEEP_TEST_DB=postgres, so the
// whole suite runs unchanged on both. It never skips: a missing PostgreSQL is
// a test failure.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
)

// DefaultPostgresURL is the maintenance database used to create test databases.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Driver returns "postgres" or "sqlite", the database the suite runs on.
func Driver() string {
	if os.Getenv("STORYKEEP_TEST_DB") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

func adminURL() string {
	if u := os.Getenv("STORYKEEP_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Open returns a fresh migrated database and its config.DB, closed and
// dropped when the test ends.
func Open(t testing.TB) (*gorm.DB, config.DB) {
	t.Helper()
	cfg := New(t)
	gdb, err := db.Open(cfg)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	})
	if Driver() == "sqlite" {
		if _, err := db.Migrate(context.Background(), gdb); err != nil {
			t.Fatalf("dbtest: migrate: %v", err)
		}
	}
	return gdb, cfg
}

// New creates an empty database (migrated, for PostgreSQL via a template;
// unmigrated for SQLite) and returns its config without opening it.
func New(t testing.TB) config.DB {
	t.Helper()
	if Driver() == "sqlite" {
		return config.DB{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "test.db")}
	}
	templateOnce.Do(func() { templateName, templateErr = makeTemplate() })
	if templateErr != nil {
		t.Fatalf("dbtest: PostgreSQL is required when STORYKEEP_TEST_DB=postgres: %v", templateErr)
	}
	name := "sk_test_" + randHex(6)
	if err := adminExec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() { _ = adminExec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)) })
	return config.DB{Driver: "postgres", DSN: withDatabase(adminURL(), name)}
}

// NewEmpty creates an empty, unmigrated database (for migration tests).
func NewEmpty(t testing.TB) config.DB {
	t.Helper()
	if Driver() == "sqlite" {
		return New(t)
	}
	name := "sk_test_" + randHex(6)
	if err := adminExec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("dbtest: PostgreSQL is required when STORYKEEP_TEST_DB=postgres: %v", err)
	}
	t.Cleanup(func() { _ = adminExec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)) })
	return config.DB{Driver: "postgres", DSN: withDatabase(adminURL(), name)}
}

func makeTemplate() (string, error) {
	name := fmt.Sprintf("sk_tpl_%d_%s", os.Getpid(), randHex(4))
	if err := adminExec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	gdb, err := db.Open(config.DB{Driver: "postgres", DSN: withDatabase(adminURL(), name)})
	if err != nil {
		return "", err
	}
	defer func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	}()
	if _, err := db.Migrate(context.Background(), gdb); err != nil {
		return "", err
	}
	return name, nil
}

// DropTemplate removes this process's template database; call from TestMain.
func DropTemplate() {
	if templateName != "" {
		_ = adminExec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", templateName))
	}
}

// Main runs a package's tests and then drops the template database.
func Main(m *testing.M) {
	code := m.Run()
	DropTemplate()
	os.Exit(code)
}

func adminExec(sql string) error {
	gdb, err := db.Open(config.DB{Driver: "postgres", DSN: adminURL()})
	if err != nil {
		return err
	}
	defer func() {
		if s, err := gdb.DB(); err == nil {
			s.Close()
		}
	}()
	return gdb.Exec(sql).Error
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
