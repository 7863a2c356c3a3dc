// Package jobs is Storykeep's durable job queue: jobs live in the database,
// are enqueued inside the caller's transaction (so work is queued only if the
// change that needs it commits), are claimed by one worker at a time across
// replicas (SKIP LOCKED on PostgreSQL; SQLite's single writer serialises
// claims), retried with exponential backoff, and parked as "dead" for an
// admin after their last attempt. It is written here rather than taken from
// River because it must run on both databases through the app's own GORM
// connection, including SQLite's single writer connection.
//
// A claimed job holds a short lease that a heartbeat renews while it runs, so
// a dead worker's jobs are claimable again within seconds. Workers are
// grouped in lanes (sets of job kinds with their own workers), so patient
// mail never waits behind slow deliveries. Stop ends a replica's work
// gracefully: no new claims, jobs in flight finish and record their results
// within the grace period, and what cannot finish is released at once.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/models"
)

// Handler does one job's work. Returning an error retries the job later;
// wrap it with Permanent to give up at once, or return a *RetryAfterError to
// choose when the next attempt happens (e.g. a 429's Retry-After).
type Handler func(ctx context.Context, job *models.Job) error

// PermanentError marks a failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the job goes straight to dead.
func Permanent(err error) error { return &PermanentError{Err: err} }

// RetryAfterError asks for the next attempt no sooner than After.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// Queue enqueues and runs jobs.
type Queue struct {
	db       *gorm.DB
	log      *slog.Logger
	worker   string
	mu       sync.RWMutex
	handlers map[string]Handler
	// retryHooks prepare a job's subject when an admin retries it.
	retryHooks map[string]RetryHook
	// Lease is how long a claimed job is reserved without a heartbeat; a
	// worker that dies releases its job when the lease runs out. A running
	// job's lease is renewed every Lease/3.
	Lease time.Duration
	// Timeout bounds one attempt of a handler.
	Timeout time.Duration
	replica string

	// Graceful stop (see Start and Stop).
	stopClaims chan struct{} // closed: claim nothing more
	hardCtx    context.Context
	hardStop   context.CancelFunc
	wg         sync.WaitGroup
	stopOnce   sync.Once
	hard       bool
	// Backoff returns the delay before attempt n+1 after n failures.
	Backoff func(attempts int) time.Duration
	now     func() time.Time
	// wakeCh is closed (and replaced) by Wake to end idle workers' waits.
	wakeMu sync.Mutex
	wakeCh chan struct{}
}

// New returns a queue over db.
func New(db *gorm.DB, log *slog.Logger) *Queue {
	host, _ := os.Hostname()
	hard, cancel := context.WithCancel(context.Background())
	q := &Queue{
		db: db, log: log, handlers: map[string]Handler{}, Lease: 20 * time.Second, Timeout: 5 * time.Minute, Backoff: DefaultBackoff,
		now:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		stopClaims: make(chan struct{}), hardCtx: hard, hardStop: cancel,
	}
	q.SetReplica(host)
	return q
}

// SetReplica names the replica this queue works for. It must stay the same
// when the replica restarts and differ between replicas running at once
// (the app uses STORYKEEP_REPLICA_ID, or host name and listen address), so
// that ReleaseReplica can free the jobs a crashed predecessor held.
func (q *Queue) SetReplica(id string) {
	q.replica = id
	q.worker = fmt.Sprintf("%s#%d/%s", id, os.Getpid(), uuid.NewString()[:8])
}

// Worker is this queue's worker id, written to jobs.locked_by.
func (q *Queue) Worker() string { return q.worker }

// ReleaseReplica makes the jobs that an earlier process of this replica held
// (it crashed or was killed) claimable again at once, instead of waiting out
// their leases. Call it at start, before Start.
func (q *Queue) ReleaseReplica(ctx context.Context) (int, error) {
	var held []models.Job
	if err := q.db.WithContext(ctx).Select("id, locked_by").Where("status = ? AND locked_by <> ?", models.JobRunning, q.worker).Find(&held).Error; err != nil {
		return 0, fmt.Errorf("jobs: release: %w", err)
	}
	n := 0
	for _, j := range held {
		if !strings.HasPrefix(j.LockedBy, q.replica+"#") {
			continue
		}
		res := q.db.WithContext(ctx).Model(&models.Job{}).Where("id = ? AND locked_by = ? AND status = ?", j.ID, j.LockedBy, models.JobRunning).
			Updates(map[string]any{"status": models.JobPending, "locked_by": "", "locked_until": nil, "run_at": q.now(), "updated_at": q.now()})
		if res.Error != nil {
			return n, fmt.Errorf("jobs: release: %w", res.Error)
		}
		n += int(res.RowsAffected)
	}
	if n > 0 {
		q.log.Info("released jobs of the previous process", "replica", q.replica, "jobs", n)
	}
	return n, nil
}

// DefaultBackoff waits 10 s, 20 s, 40 s … up to an hour, with ±20 % jitter so
// retries from many jobs do not arrive together.
func DefaultBackoff(attempts int) time.Duration {
	d := 10 * time.Second << min(attempts-1, 9)
	if d > time.Hour {
		d = time.Hour
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Handle registers the handler for kind.
func (q *Queue) Handle(kind string, h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handlers[kind] = h
}

// Options tune one enqueue.
type Options struct {
	RunAt       time.Time // zero: now
	Key         string    // idempotency key; a second enqueue with the same key is a no-op
	MaxAttempts int       // zero: 8
}

// Enqueue adds a job inside tx (nil: its own). A job with the same
// idempotency key already present is returned instead of a new one.
func (q *Queue) Enqueue(ctx context.Context, tx *gorm.DB, kind string, payload any, o Options) (*models.Job, error) {
	if tx == nil {
		tx = q.db
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("jobs: payload: %w", err)
	}
	now := q.now()
	j := &models.Job{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Payload: string(b), Status: models.JobPending,
		MaxAttempts: o.MaxAttempts, RunAt: o.RunAt.UTC(), CreatedAt: now, UpdatedAt: now}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 8
	}
	if o.RunAt.IsZero() {
		j.RunAt = now
	}
	if o.Key != "" {
		k := o.Key
		j.IdempotencyKey = &k
	}
	res := tx.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(j)
	if res.Error != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", kind, res.Error)
	}
	if res.RowsAffected == 0 {
		var existing models.Job
		if err := tx.WithContext(ctx).Where("idempotency_key = ?", o.Key).Take(&existing).Error; err != nil {
			return nil, err
		}
		return &existing, nil
	}
	return j, nil
}

// Decode unmarshals a job's payload into v.
func Decode(j *models.Job, v any) error {
	if err := json.Unmarshal([]byte(j.Payload), v); err != nil {
		return Permanent(fmt.Errorf("jobs: payload of %s: %w", j.Kind, err))
	}
	return nil
}

// kinds selects the job kinds a lane claims: In, or all but NotIn.
type kinds struct{ In, NotIn []string }

// claim reserves the next due job (or one whose lease ran out) for this worker.
//
// It costs a few index probes however long the backlog: for each kind the
// lane takes, the oldest due job of that kind, read in order from
// jobs_claim_idx (status, kind, run_at, id); and the job whose lease ran out
// longest ago (jobs_lease_idx); the oldest of those is taken. One query
// with an OR across both, as before, read and sorted every due job on each
// claim (1 ms of database time with 3,000 queued deliveries).
func (q *Queue) claim(ctx context.Context, k kinds) (*models.Job, error) {
	now := q.now()
	until := now.Add(q.Lease)
	list := q.kindsOf(k)
	if len(list) > 0 {
		j, err := q.claimWhere(ctx, q.claimKinds(list, now), now, until)
		if j != nil || err != nil {
			return j, err
		}
	}
	if len(k.In) > 0 {
		return nil, nil
	}
	// A lane without named kinds also takes jobs no handler knows (to fail
	// them, as before); they are rare, so the full scan runs only when the
	// lane has nothing else to do.
	filter, args := "", []any{models.JobPending, now, models.JobRunning, now}
	if exclude := append(slices.Clone(k.NotIn), list...); len(exclude) > 0 {
		filter, args = " AND kind NOT IN ?", append(args, exclude)
	}
	return q.claimWhere(ctx, subquery{`SELECT id FROM jobs WHERE ((status = ? AND run_at <= ?) OR (status = ? AND locked_until < ?))` + filter +
		` ORDER BY run_at, id LIMIT 1` + q.lock(), args}, now, until)
}

// subquery is SQL choosing one job id, with its arguments.
type subquery struct {
	sql  string
	args []any
}

func (q *Queue) lock() string {
	if q.db.Dialector.Name() == "postgres" {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// claimKinds chooses the oldest due job of any of list's kinds, or the
// one of theirs whose lease ran out longest ago.
func (q *Queue) claimKinds(list []string, now time.Time) subquery {
	var b strings.Builder
	args := make([]any, 0, 3*len(list)+3)
	b.WriteString("SELECT id FROM (SELECT id, run_at FROM (SELECT id, run_at FROM jobs WHERE status = ? AND locked_until < ? AND kind IN ? ORDER BY locked_until LIMIT 1" + q.lock() + ") l")
	args = append(args, models.JobRunning, now, list)
	for i, kind := range list {
		fmt.Fprintf(&b, " UNION ALL SELECT id, run_at FROM (SELECT id, run_at FROM jobs WHERE status = ? AND kind = ? AND run_at <= ? ORDER BY run_at, id LIMIT 1%s) p%d", q.lock(), i)
		args = append(args, models.JobPending, kind, now)
	}
	b.WriteString(") c ORDER BY run_at, id LIMIT 1")
	return subquery{b.String(), args}
}

// claimWhere reserves the job pick chooses.
func (q *Queue) claimWhere(ctx context.Context, pick subquery, now, until time.Time) (*models.Job, error) {
	var jobs []models.Job
	args := append([]any{models.JobRunning, q.worker, until, now}, pick.args...)
	err := q.db.WithContext(ctx).Raw(`UPDATE jobs SET status = ?, locked_by = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id = (`+pick.sql+`) RETURNING *`, args...).Scan(&jobs).Error
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	return &jobs[0], nil
}

// kindsOf lists the kinds a lane claims: its own, or for a lane without
// named kinds every kind with a handler that no other lane names.
func (q *Queue) kindsOf(k kinds) []string {
	if len(k.In) > 0 {
		return k.In
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	out := make([]string, 0, len(q.handlers))
	for kind := range q.handlers {
		if !slices.Contains(k.NotIn, kind) {
			out = append(out, kind)
		}
	}
	slices.Sort(out)
	return out
}

// RunOnce claims and runs one due job of any kind. It reports whether there was one.
func (q *Queue) RunOnce(ctx context.Context) (bool, error) {
	return q.runOnce(ctx, kinds{})
}

func (q *Queue) runOnce(ctx context.Context, k kinds) (bool, error) {
	select {
	case <-q.stopClaims:
		return false, nil
	default:
	}
	j, err := q.claim(ctx, k)
	if err != nil || j == nil {
		return false, err
	}
	stopBeat := q.heartbeat(j)
	defer stopBeat()
	q.mu.RLock()
	h := q.handlers[j.Kind]
	q.mu.RUnlock()
	var runErr error
	if h == nil {
		runErr = Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	} else {
		runErr = q.safeRun(ctx, h, j)
	}
	return true, q.finish(context.WithoutCancel(ctx), j, runErr)
}

func (q *Queue) safeRun(ctx context.Context, h Handler, j *models.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	// A handler outlives the caller's context (a SIGTERM): it ends at the
	// hard stop, or its timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.Timeout)
	defer cancel()
	stop := context.AfterFunc(q.hardCtx, cancel)
	defer stop()
	return h(ctx, j)
}

// heartbeat renews j's lease every Lease/3 until the returned func is called.
func (q *Queue) heartbeat(j *models.Job) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(q.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				now := q.now()
				err := q.db.Model(&models.Job{}).Where("id = ? AND locked_by = ? AND status = ?", j.ID, q.worker, models.JobRunning).
					Updates(map[string]any{"locked_until": now.Add(q.Lease), "updated_at": now}).Error
				if err != nil {
					q.log.Warn("job heartbeat", "kind", j.Kind, "job", j.ID, "err", err)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// finish records the outcome of a run, unless the job was cancelled or
// reclaimed by another worker in the meantime.
func (q *Queue) finish(ctx context.Context, j *models.Job, runErr error) error {
	now := q.now()
	upd := map[string]any{"updated_at": now, "locked_by": "", "locked_until": nil}
	var perm *PermanentError
	var ra *RetryAfterError
	switch {
	case runErr != nil && q.hardStopped():
		// Cut off by the end of the grace period: release the job for
		// another worker now, without counting the attempt.
		upd["status"], upd["run_at"], upd["attempts"], upd["last_error"] = models.JobPending, now, max(j.Attempts-1, 0), "released at shutdown"
	case runErr == nil:
		upd["status"], upd["finished_at"], upd["last_error"] = models.JobDone, now, ""
	case errors.As(runErr, &perm) || j.Attempts >= j.MaxAttempts:
		upd["status"], upd["finished_at"], upd["last_error"] = models.JobDead, now, truncate(runErr.Error())
		q.log.Warn("job dead", "kind", j.Kind, "job", j.ID, "attempts", j.Attempts)
	default:
		delay := q.Backoff(j.Attempts)
		if errors.As(runErr, &ra) && ra.After > delay {
			delay = ra.After
		}
		upd["status"], upd["run_at"], upd["last_error"] = models.JobPending, now.Add(delay), truncate(runErr.Error())
	}
	// The result matters (a post the receiver accepted must not be sent
	// again), so a lost connection is retried a few times.
	var err error
	for i := 0; i < 4; i++ {
		if i > 0 {
			time.Sleep(time.Duration(i) * 500 * time.Millisecond)
		}
		err = q.db.WithContext(ctx).Model(&models.Job{}).Where("id = ? AND locked_by = ? AND status = ?", j.ID, q.worker, models.JobRunning).Updates(upd).Error
		if err == nil {
			return nil
		}
	}
	return err
}

func (q *Queue) hardStopped() bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.hard
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// Run works until ctx ends: it drains due jobs, then polls every interval.
func (q *Queue) Run(ctx context.Context, interval time.Duration) {
	for {
		ran, err := q.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			q.log.Warn("job queue", "err", err)
		}
		if ran && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Lane is a set of job kinds with its own workers. A lane without kinds
// takes every kind no other lane names.
type Lane struct {
	Name    string
	Workers int
	Kinds   []string
}

// Start runs the lanes' workers until Stop, polling every interval when
// idle. Handlers get a context that Stop cancels only when its grace ends.
func (q *Queue) Start(interval time.Duration, lanes ...Lane) {
	var named []string
	for _, l := range lanes {
		named = append(named, l.Kinds...)
	}
	for _, l := range lanes {
		k := kinds{In: l.Kinds}
		if len(l.Kinds) == 0 {
			k = kinds{NotIn: named}
		}
		for i := 0; i < max(l.Workers, 1); i++ {
			q.wg.Add(1)
			go func() {
				defer q.wg.Done()
				q.work(k, interval, l.Name)
			}()
		}
	}
}

func (q *Queue) work(k kinds, interval time.Duration, lane string) {
	ctx := q.hardCtx
	for {
		// Taken before looking, so a Wake while this worker looks is not lost.
		woken := q.wakeup()
		ran, err := q.runOnce(ctx, k)
		if err != nil && ctx.Err() == nil {
			q.log.Warn("job queue", "lane", lane, "err", err)
		}
		if ran && err == nil {
			continue
		}
		select {
		case <-q.stopClaims:
			return
		case <-time.After(interval):
		case <-woken:
		}
	}
}

// Wake makes this replica's idle workers look for due jobs now instead of
// at their next poll: for work that should not wait for it (a CDN purge
// after a revocation). Call it once the job's transaction has committed;
// the poll still finds whatever a Wake misses.
func (q *Queue) Wake() {
	q.wakeMu.Lock()
	defer q.wakeMu.Unlock()
	if q.wakeCh != nil {
		close(q.wakeCh)
	}
	q.wakeCh = make(chan struct{})
}

func (q *Queue) wakeup() <-chan struct{} {
	q.wakeMu.Lock()
	defer q.wakeMu.Unlock()
	if q.wakeCh == nil {
		q.wakeCh = make(chan struct{})
	}
	return q.wakeCh
}

// Stop ends the workers started by Start: nothing new is claimed, jobs in
// flight may finish and record their results until ctx ends (the shutdown
// grace); then their handlers are cancelled and their jobs released for
// another worker at once. It returns once every worker has returned.
func (q *Queue) Stop(ctx context.Context) error {
	q.stopOnce.Do(func() { close(q.stopClaims) })
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	q.hard = true
	q.mu.Unlock()
	q.hardStop()
	// Handlers see their context end and finish releases their jobs; one
	// that ignores its context is not waited for long.
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	// A job whose release was not written is released here.
	res := q.db.Model(&models.Job{}).Where("status = ? AND locked_by = ?", models.JobRunning, q.worker).
		Updates(map[string]any{"status": models.JobPending, "locked_by": "", "locked_until": nil, "run_at": q.now(), "updated_at": q.now()})
	q.log.Warn("job workers cut off at the end of the shutdown grace; their jobs are released", "unrecorded", res.RowsAffected)
	return res.Error
}

// Cancel stops a pending job (e.g. a delivery whose consent was revoked). A
// job already running finishes its attempt; its result is then ignored.
func (q *Queue) Cancel(ctx context.Context, tx *gorm.DB, id string) error {
	if tx == nil {
		tx = q.db
	}
	return tx.WithContext(ctx).Model(&models.Job{}).Where("id = ? AND status IN ?", id, []string{models.JobPending, models.JobRunning}).
		Updates(map[string]any{"status": models.JobCancelled, "finished_at": q.now(), "updated_at": q.now()}).Error
}

// RetryHook runs inside the transaction that puts a job back in the queue,
// so the job's subject (e.g. a failed delivery) is made ready to run again
// with it. Without one, a retried job may find nothing to do.
type RetryHook func(ctx context.Context, tx *gorm.DB, j *models.Job) error

// OnRetry registers the retry hook for kind.
func (q *Queue) OnRetry(kind string, h RetryHook) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.retryHooks == nil {
		q.retryHooks = map[string]RetryHook{}
	}
	q.retryHooks[kind] = h
}

// ErrNotRetryable is returned by Retry for a job that is neither dead nor
// waiting out a backoff.
var ErrNotRetryable = errors.New("only a dead job, or one waiting to retry, can be retried")

// Retry is the admin's action: a dead job goes back in the queue with fresh
// attempts, and a job waiting out its backoff after a failure runs now.
// The kind's retry hook runs in the same transaction.
func (q *Queue) Retry(ctx context.Context, id string) error {
	return q.requeue(ctx, nil, id, false)
}

// Requeue is Retry for a job in any state but running: the caller (e.g. a
// publisher retrying a failed delivery) knows its subject needs another run.
func (q *Queue) Requeue(ctx context.Context, tx *gorm.DB, id string) error {
	return q.requeue(ctx, tx, id, true)
}

func (q *Queue) requeue(ctx context.Context, tx *gorm.DB, id string, force bool) error {
	if tx == nil {
		tx = q.db
	}
	return tx.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var j models.Job
		if err := tx.Where("id = ?", id).Limit(1).Find(&j).Error; err != nil {
			return err
		}
		now := q.now()
		upd := map[string]any{"status": models.JobPending, "run_at": now, "finished_at": nil, "updated_at": now}
		switch {
		case j.ID == "":
			return ErrNotRetryable
		case j.Status == models.JobPending && j.Attempts > 0:
			// waiting out its backoff: run now, attempts kept
		case j.Status == models.JobDead || (force && j.Status != models.JobRunning && j.Status != models.JobPending):
			upd["attempts"] = 0
		case force && j.Status == models.JobPending:
		default:
			return ErrNotRetryable
		}
		res := tx.Model(&models.Job{}).Where("id = ? AND status = ?", j.ID, j.Status).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotRetryable // changed meanwhile
		}
		q.mu.RLock()
		h := q.retryHooks[j.Kind]
		q.mu.RUnlock()
		if h != nil {
			return h(ctx, tx, &j)
		}
		return nil
	})
}

// List returns jobs in a state, most recently updated first.
func (q *Queue) List(ctx context.Context, status string, limit int) ([]models.Job, error) {
	var js []models.Job
	err := q.db.WithContext(ctx).Where("status = ?", status).Order("updated_at DESC").Limit(limit).Find(&js).Error
	return js, err
}

// Counts returns how many jobs are in each state.
func (q *Queue) Counts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := q.db.WithContext(ctx).Model(&models.Job{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}
