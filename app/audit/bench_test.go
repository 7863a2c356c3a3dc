package audit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
)

// BenchmarkAuditedWrites measures audited writes per second with N writers
// at once, each a transaction that records one entry and then does about a
// millisecond of other work (the change the entry describes), as a service
// does. With one chain lock held from the entry to the commit, writers queue
// behind each other; appended unlinked entries let them run side by side,
// while the chainer links them (every 100 ms here) and at the end every
// entry is linked and the chain verifies.
//
//	STORYKEEP_TEST_DB=postgres go test ./app/audit -run '^$' -bench AuditedWrites -benchtime 2000x
func BenchmarkAuditedWrites(b *testing.B) {
	for _, writers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			gdb, _ := dbtest.Open(b)
			l := audit.New(gdb)
			ctx := context.Background()
			var next atomic.Int64
			var wg sync.WaitGroup
			var failed atomic.Value
			lctx, stopLinker := context.WithCancel(ctx)
			linkerDone := make(chan struct{})
			go func() { defer close(linkerDone); l.RunLinker(lctx, 100*time.Millisecond, nil) }()
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						err := gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
							if err := l.Record(ctx, tx, audit.Entry{Action: "bench.write", ObjectType: "bench", ObjectID: "x"}); err != nil {
								return err
							}
							time.Sleep(time.Millisecond)
							return nil
						})
						if err != nil {
							failed.Store(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			elapsed := time.Since(start)
			stopLinker()
			<-linkerDone
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			if _, err := l.Link(ctx); err != nil {
				b.Fatal(err)
			}
			if rep, err := l.Verify(ctx); err != nil || rep.Broken != nil || rep.Checked != int64(b.N) || rep.Unlinked != 0 {
				b.Fatalf("after the run: %+v %v", rep, err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
		})
	}
}
