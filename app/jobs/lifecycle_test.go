package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func jobOf(t *testing.T, q *Queue, id string) models.Job {
	t.Helper()
	var j models.Job
	if err := q.db.Take(&j, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return j
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Finding (fault runs §6): on SIGTERM a post the receiver had accepted was
// never recorded as sent. Stop must let the job in flight finish and record
// its result, and claim nothing new.
func TestF6SIGTERMDrainsJobsInFlight(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	started, release := make(chan struct{}), make(chan struct{})
	var ran atomic.Int32
	q.Handle("post", func(ctx context.Context, j *models.Job) error {
		ran.Add(1)
		close(started)
		<-release
		return ctx.Err() // the handler's context must still be alive
	})
	q.Handle("other", func(context.Context, *models.Job) error { ran.Add(1); return nil })
	j, _ := q.Enqueue(context.Background(), nil, "post", nil, Options{})
	q.Start(10*time.Millisecond, Lane{Name: "all", Workers: 1})
	<-started
	later, _ := q.Enqueue(context.Background(), nil, "other", nil, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopped := make(chan error)
	go func() { stopped <- q.Stop(ctx) }()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if got := jobOf(t, q, j.ID); got.Status != models.JobDone {
		t.Fatalf("job in flight at SIGTERM ended %s (%s), want done", got.Status, got.LastError)
	}
	if got := jobOf(t, q, later.ID); got.Status != models.JobPending || ran.Load() != 1 {
		t.Fatalf("a job was claimed after Stop: %s, ran %d", got.Status, ran.Load())
	}
}

// A job that cannot finish within the grace is released at once, its
// attempt not counted, so another replica takes it without waiting for a lease.
func TestF6SIGTERMReleasesWhatCannotFinish(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	started := make(chan struct{})
	q.Handle("slow", func(ctx context.Context, j *models.Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	j, _ := q.Enqueue(context.Background(), nil, "slow", nil, Options{})
	q.Start(10*time.Millisecond, Lane{Name: "all", Workers: 2})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	got := jobOf(t, q, j.ID)
	if got.Status != models.JobPending || got.LockedBy != "" || got.Attempts != 0 || got.RunAt.After(time.Now()) {
		t.Fatalf("unfinished job not released: %+v", got)
	}
	other := New(gdb, quiet)
	other.Handle("slow", func(context.Context, *models.Job) error { return nil })
	if ran, err := other.RunOnce(context.Background()); !ran || err != nil {
		t.Fatalf("another replica could not take the released job at once: %v %v", ran, err)
	}
}

// Finding (fault runs §2): a crashed replica's jobs waited out a fixed
// 5-minute lease. A heartbeat keeps a running job's short lease alive, and a
// dead worker's lease runs out quickly.
func TestF2HeartbeatKeepsShortLeaseAndDeadWorkerIsReclaimed(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	a, b := New(gdb, quiet), New(gdb, quiet)
	a.Lease, b.Lease = 300*time.Millisecond, 300*time.Millisecond
	var runs atomic.Int32
	h := func(ctx context.Context, j *models.Job) error {
		if runs.Add(1) == 1 {
			time.Sleep(time.Second) // three leases long
		}
		return nil
	}
	a.Handle("k", h)
	b.Handle("k", h)
	j, _ := a.Enqueue(context.Background(), nil, "k", nil, Options{})
	done := make(chan struct{})
	go func() { a.RunOnce(context.Background()); close(done) }()
	waitFor(t, "claim", 2*time.Second, func() bool { return runs.Load() == 1 })
	for i := 0; i < 8; i++ {
		time.Sleep(100 * time.Millisecond)
		if ran, _ := b.RunOnce(context.Background()); ran {
			t.Fatal("a job whose worker is alive was claimed by another worker")
		}
	}
	<-done
	if got := jobOf(t, a, j.ID); got.Status != models.JobDone || got.Attempts != 1 {
		t.Fatalf("%+v", got)
	}

	// A worker that claims and dies (no heartbeat, no finish).
	dead, _ := a.Enqueue(context.Background(), nil, "k", nil, Options{})
	if c, err := a.claim(context.Background(), kinds{}); err != nil || c == nil || c.ID != dead.ID {
		t.Fatalf("claim: %v %v", c, err)
	}
	start := time.Now()
	waitFor(t, "the dead worker's job to be reclaimed", 3*time.Second, func() bool {
		ran, _ := b.RunOnce(context.Background())
		return ran
	})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("reclaimed after %s", el)
	}
	if got := jobOf(t, a, dead.ID); got.Status != models.JobDone {
		t.Fatalf("%+v", got)
	}
}

// Finding (fault runs §2): a restarted replica got a new worker id and could
// not recognise its predecessor's jobs. ReleaseReplica frees them at once,
// and leaves other replicas' jobs alone.
func TestF2RestartedReplicaReleasesPredecessorsJobs(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	old, other := New(gdb, quiet), New(gdb, quiet)
	old.SetReplica("host-a:8080")
	other.SetReplica("host-a:8081")
	mine, _ := old.Enqueue(context.Background(), nil, "k", nil, Options{})
	theirs, _ := old.Enqueue(context.Background(), nil, "k", nil, Options{})
	if c, _ := old.claim(context.Background(), kinds{}); c == nil || c.ID != mine.ID {
		t.Fatal("claim")
	}
	if c, _ := other.claim(context.Background(), kinds{}); c == nil || c.ID != theirs.ID {
		t.Fatal("claim")
	}
	restarted := New(gdb, quiet)
	restarted.SetReplica("host-a:8080")
	n, err := restarted.ReleaseReplica(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("released %d, %v", n, err)
	}
	if got := jobOf(t, old, mine.ID); got.Status != models.JobPending || got.LockedBy != "" {
		t.Fatalf("predecessor's job not released: %+v", got)
	}
	if got := jobOf(t, old, theirs.ID); got.Status != models.JobRunning || got.LockedBy != other.Worker() {
		t.Fatalf("another replica's job was touched: %+v", got)
	}
}

// Finding (fault runs §3c): consent invitations waited 2 min 25 s behind
// slow webhooks. Lanes have their own workers: mail runs while every
// delivery worker is busy.
func TestF3cMailLaneDoesNotWaitBehindDeliveries(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	release := make(chan struct{})
	q.Handle("export.deliver", func(ctx context.Context, j *models.Job) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	var mailed atomic.Bool
	q.Handle("consent.mail", func(context.Context, *models.Job) error { mailed.Store(true); return nil })
	for i := 0; i < 5; i++ {
		q.Enqueue(context.Background(), nil, "export.deliver", nil, Options{})
	}
	q.Start(10*time.Millisecond, Lane{Name: "deliveries", Workers: 2, Kinds: []string{"export.deliver"}},
		Lane{Name: "patient", Workers: 1, Kinds: []string{"consent.mail"}}, Lane{Name: "default", Workers: 1})
	defer func() {
		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(ctx)
	}()
	waitFor(t, "deliveries to occupy their lane", 2*time.Second, func() bool {
		var n int64
		gdb.Model(&models.Job{}).Where("status = ?", models.JobRunning).Count(&n)
		return n == 2
	})
	q.Enqueue(context.Background(), nil, "consent.mail", nil, Options{})
	waitFor(t, "the consent mail", 2*time.Second, mailed.Load)
	var n int64
	gdb.Model(&models.Job{}).Where("status = ? AND kind = ?", models.JobRunning, "export.deliver").Count(&n)
	if n != 2 {
		t.Fatalf("%d deliveries running, want the lane's 2", n)
	}
}

// TestWakeRunsDueJobsWithoutWaitingForThePoll: idle workers polling once
// an hour run a job enqueued meanwhile as soon as Wake is called (a CDN
// purge after a revocation must not wait for the next poll).
func TestWakeRunsDueJobsWithoutWaitingForThePoll(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	q := New(gdb, quiet)
	var ran atomic.Int32
	q.Handle("urgent", func(context.Context, *models.Job) error { ran.Add(1); return nil })
	q.Start(time.Hour, Lane{Name: "patient", Workers: 2, Kinds: []string{"urgent"}}, Lane{Name: "default", Workers: 1})
	defer q.Stop(context.Background())
	time.Sleep(100 * time.Millisecond) // the workers found nothing and sleep for the hour
	j, err := q.Enqueue(context.Background(), nil, "urgent", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q.Wake()
	waitFor(t, "the woken worker to run the job", 30*time.Second, func() bool { return jobOf(t, q, j.ID).Status == models.JobDone })
	if ran.Load() != 1 {
		t.Fatalf("ran %d times", ran.Load())
	}
}
