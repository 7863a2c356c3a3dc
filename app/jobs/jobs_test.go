package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRunsOnceAndIdempotency(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	ctx := context.Background()
	var got []string
	q.Handle("greet", func(ctx context.Context, j *models.Job) error {
		var p struct{ Name string }
		if err := Decode(j, &p); err != nil {
			return err
		}
		got = append(got, p.Name)
		return nil
	})
	a, _ := q.Enqueue(ctx, nil, "greet", map[string]string{"Name": "a"}, Options{Key: "greet:a"})
	b, err := q.Enqueue(ctx, nil, "greet", map[string]string{"Name": "a"}, Options{Key: "greet:a"})
	if err != nil || a.ID != b.ID {
		t.Fatalf("same key must return the same job: %v %v", a.ID, err)
	}
	q.Enqueue(ctx, nil, "greet", map[string]string{"Name": "later"}, Options{RunAt: time.Now().Add(time.Hour)})
	for {
		ran, err := q.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			break
		}
	}
	if len(got) != 1 || got[0] != "a" {
		t.Fatalf("ran %v; the future job must wait", got)
	}
	c, _ := q.Counts(ctx)
	if c[models.JobDone] != 1 || c[models.JobPending] != 1 {
		t.Fatalf("counts %v", c)
	}
}

func TestEnqueueRollsBackWithTransaction(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	_ = gdb.Transaction(func(tx *gorm.DB) error {
		if _, err := q.Enqueue(context.Background(), tx, "x", nil, Options{}); err != nil {
			t.Fatal(err)
		}
		return errors.New("the change failed")
	})
	if ran, _ := q.RunOnce(context.Background()); ran {
		t.Fatal("a job from a rolled-back transaction must not exist")
	}
}

func TestRetryBackoffDeadAndAdminRetry(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	now := time.Now().UTC().Truncate(time.Microsecond)
	q.now = func() time.Time { return now }
	q.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	calls := 0
	q.Handle("flaky", func(context.Context, *models.Job) error { calls++; return errors.New("receiver down") })
	j, _ := q.Enqueue(context.Background(), nil, "flaky", nil, Options{MaxAttempts: 3})
	for i := 1; i <= 3; i++ {
		if ran, err := q.RunOnce(context.Background()); !ran || err != nil {
			t.Fatalf("attempt %d: %v %v", i, ran, err)
		}
		if ran, _ := q.RunOnce(context.Background()); ran {
			t.Fatalf("attempt %d: retried before its backoff", i)
		}
		now = now.Add(time.Duration(i) * time.Minute)
	}
	var got models.Job
	gdb.Take(&got, "id = ?", j.ID)
	if got.Status != models.JobDead || got.Attempts != 3 || got.LastError != "receiver down" || calls != 3 {
		t.Fatalf("%+v calls=%d", got, calls)
	}
	if err := q.Retry(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	if ran, _ := q.RunOnce(context.Background()); !ran || calls != 4 {
		t.Fatal("retried job should run again")
	}
}

func TestPermanentRetryAfterPanicAndUnknownKind(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	now := time.Now().UTC().Truncate(time.Microsecond)
	q.now = func() time.Time { return now }
	q.Handle("perm", func(context.Context, *models.Job) error { return Permanent(errors.New("bad payload")) })
	q.Handle("limited", func(context.Context, *models.Job) error {
		return &RetryAfterError{Err: errors.New("429"), After: 2 * time.Hour}
	})
	q.Handle("boom", func(context.Context, *models.Job) error { panic("bug") })
	ids := map[string]string{}
	for _, k := range []string{"perm", "limited", "boom", "nobody"} {
		j, _ := q.Enqueue(context.Background(), nil, k, nil, Options{})
		ids[k] = j.ID
	}
	for i := 0; i < 4; i++ {
		q.RunOnce(context.Background())
	}
	status := func(k string) models.Job {
		var j models.Job
		gdb.Take(&j, "id = ?", ids[k])
		return j
	}
	if j := status("perm"); j.Status != models.JobDead || j.Attempts != 1 {
		t.Fatalf("permanent: %+v", j)
	}
	if j := status("limited"); j.Status != models.JobPending || j.RunAt.Sub(now) < 2*time.Hour {
		t.Fatalf("retry-after not honoured: %+v", j)
	}
	if j := status("boom"); j.Status != models.JobPending || j.LastError == "" {
		t.Fatalf("panic should be a retryable failure: %+v", j)
	}
	if j := status("nobody"); j.Status != models.JobDead {
		t.Fatalf("unknown kind: %+v", j)
	}
}

func TestCancelledJobNeverRuns(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	ran := false
	q.Handle("send", func(context.Context, *models.Job) error { ran = true; return nil })
	j, _ := q.Enqueue(context.Background(), nil, "send", nil, Options{})
	if err := q.Cancel(context.Background(), nil, j.ID); err != nil {
		t.Fatal(err)
	}
	q.RunOnce(context.Background())
	if ran {
		t.Fatal("cancelled job ran")
	}
}

func TestExpiredLeaseIsReclaimed(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	now := time.Now().UTC().Truncate(time.Microsecond)
	q.now = func() time.Time { return now }
	q.Enqueue(context.Background(), nil, "slow", nil, Options{})
	if j, _ := q.claim(context.Background(), kinds{}); j == nil {
		t.Fatal("no claim")
	} // this worker "dies" holding the job
	other := New(gdb, quiet)
	other.now = q.now
	done := false
	other.Handle("slow", func(context.Context, *models.Job) error { done = true; return nil })
	if ran, _ := other.RunOnce(context.Background()); ran {
		t.Fatal("job is leased; another worker must not take it yet")
	}
	now = now.Add(q.Lease + time.Second)
	if ran, _ := other.RunOnce(context.Background()); !ran || !done {
		t.Fatal("expired lease should be reclaimed")
	}
}

// TestTwoWorkersRace runs two queues on separate connection pools against
// the same database; every job must run exactly once.
func TestTwoWorkersRace(t *testing.T) {
	gdb, cfg := dbtest.Open(t)
	gdb2, err := db.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s, _ := gdb2.DB(); s.Close() }()
	const n = 60
	var runs sync.Map
	var total atomic.Int64
	handler := func(_ context.Context, j *models.Job) error {
		if _, dup := runs.LoadOrStore(j.ID, true); dup {
			t.Errorf("job %s ran twice", j.ID)
		}
		total.Add(1)
		return nil
	}
	q1, q2 := New(gdb, quiet), New(gdb2, quiet)
	q1.Handle("work", handler)
	q2.Handle("work", handler)
	for i := 0; i < n; i++ {
		if _, err := q1.Enqueue(context.Background(), nil, "work", map[string]int{"i": i}, Options{Key: fmt.Sprint("w", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, q := range []*Queue{q1, q2, q1, q2} {
		wg.Add(1)
		go func(q *Queue) {
			defer wg.Done()
			for {
				ran, err := q.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if !ran {
					return
				}
			}
		}(q)
	}
	wg.Wait()
	if total.Load() != n {
		t.Fatalf("%d runs, want %d", total.Load(), n)
	}
}
