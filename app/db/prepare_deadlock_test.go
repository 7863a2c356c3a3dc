package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
)

// TestWriterDoesNotDeadlockOnPrepare: the SQLite writer handle has one
// connection. With GORM's statement cache on it, this interleaving hung
// every job worker of a replica (the delivery load test):
//   - a transaction holds the connection;
//   - query A, new, outside it, starts preparing and waits for the connection;
//   - query A again waits for that prepare while holding the cache's read lock;
//   - the transaction runs a new statement: it needs the cache's write lock.
//
// Nobody can move. Now the transaction commits and the queries run.
func TestWriterDoesNotDeadlockOnPrepare(t *testing.T) {
	gdb, err := db.Open(config.DB{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "w.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := gdb.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	queries := make(chan error, 2)
	go func() {
		done <- gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil {
				return err
			}
			for i := 0; i < 2; i++ {
				go func() {
					var v []string
					queries <- gdb.WithContext(ctx).Raw("SELECT v FROM t WHERE id > ?", 0).Scan(&v).Error
				}()
				time.Sleep(200 * time.Millisecond) // the first is preparing, the second waits on it
			}
			if err := tx.Exec("INSERT INTO t (v) VALUES (?)", fmt.Sprint("x")).Error; err != nil {
				return err
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the transaction is stuck: the writer handle deadlocked on its statement cache")
	}
	for i := 0; i < 2; i++ {
		select {
		case err := <-queries:
			if err != nil {
				t.Fatalf("query: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a query waiting for the writer never ran")
		}
	}
}
