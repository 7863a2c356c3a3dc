package export_test

// The delivery load benchmark (issue 21): stories × 3 channels pushed
// through the durable queue by real `storykeep` replicas, processes of
// their own on one database, to a local webhook receiver that counts every
// arrival by idempotency key. scripts/loadtest-deliveries.sh runs it and
// prints the table.
//
// Each replica is this test binary started again with
// STORYKEEP_DELIVERY_REPLICA=1: TestMain then runs app.Serve (job lanes,
// heartbeats, SIGTERM drain: the production path) instead of the tests, so
// kill -9 and SIGTERM hit a real process. The one difference from
// production is the consent half of the gate, which allows every channel:
// signing 1,000 consents through the patient pages would make the seed, not
// the queue, the thing measured. Legal's approval is checked as in
// production.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
	"gorm.io/gorm"
)

const replicaEnv = "STORYKEEP_DELIVERY_REPLICA"

// allowAll is the consent half of the gate in the load benchmark.
type allowAll struct{}

func (allowAll) Allowed(context.Context, string, string, []string, string) (bool, string, error) {
	return true, "", nil
}
func (allowAll) NameUsage(context.Context, string) (string, error) { return "full", nil }

// runReplica is a replica process: it serves until SIGTERM, then drains.
func runReplica() int {
	cfg, err := config.Load(nil, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica config:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// STORYKEEP_BENCH_PROFILE=DIR writes each replica's CPU profile there
	// (cpu-<replica id>.pprof), for finding where a run's time goes.
	if dir := os.Getenv("STORYKEEP_BENCH_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "cpu-"+os.Getenv("STORYKEEP_REPLICA_ID")+".pprof"))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
	}
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		return 2
	}
	defer a.Close()
	a.Export.Gate = stories.ApprovalGate{Consent: allowAll{}, Stories: a.Stories}
	if os.Getenv("STORYKEEP_BENCH_QUERIES") != "" {
		defer countQueries(a.DB)()
	}
	ready := make(chan string, 1)
	go func() { fmt.Println("READY", <-ready) }()
	if err := a.Serve(ctx, ready); err != nil {
		fmt.Fprintln(os.Stderr, "replica serve:", err)
		return 1
	}
	return 0
}

// receiver counts webhook arrivals by idempotency key, after a latency
// standing in for a network hop and the receiver's own work.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	seen    map[string]int
	last    time.Time
	latency time.Duration
}

func newReceiver(latency time.Duration) *receiver {
	r := &receiver{seen: map[string]int{}, latency: latency}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p export.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil || p.IdempotencyKey == "" {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		time.Sleep(r.latency)
		r.mu.Lock()
		r.seen[p.IdempotencyKey]++
		r.last = time.Now()
		n := len(r.seen)
		r.mu.Unlock()
		fmt.Fprintf(w, `{"id":"post-%d"}`, n)
	}))
	return r
}

// counts is (distinct deliveries received, arrivals beyond the first).
func (r *receiver) counts() (unique, dups int, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seen {
		unique++
		dups += n - 1
	}
	return unique, dups, r.last
}

var benchChannels = []string{"linkedin", "facebook", "x"}

// seedDeliveries makes n approved stories with three webhook channels and
// schedules every delivery, so the queue holds 3n due jobs.
func seedDeliveries(b *testing.B, env *apptest.Env, n int, url string) {
	ctx := audit.WithActor(context.Background(), audit.System)
	owner, _ := env.CreateUser(models.RoleStoryteller)
	pub, _ := env.CreateUser(models.RolePublisher)
	for _, ch := range benchChannels {
		if err := env.App.Export.SaveAccount(ctx, "admin", ch, export.AccountInput{Method: models.MethodWebhook, URL: url + "/" + ch, Secret: "bench-secret", Enabled: true}); err != nil {
			b.Fatal(err)
		}
	}
	env.App.Export.Gate = stories.ApprovalGate{Consent: allowAll{}, Stories: env.App.Stories}
	now := time.Now().UTC()
	p := models.Patient{ID: "bench-patient", FullName: "Bench Patient", PreferredName: "Bench", PreferredLanguage: "en", CreatedBy: owner.ID, CreatedAt: now, UpdatedAt: now}
	if err := env.App.DB.Create(&p).Error; err != nil {
		b.Fatal(err)
	}
	cp := map[string]string{}
	for _, ch := range benchChannels {
		cp[ch] = "A year after surgery, back at work. Read the story."
	}
	actor := workflow.Actor{UserID: pub.ID, Role: models.RolePublisher}
	for i := 0; i < n; i++ {
		st, err := env.App.Stories.Create(ctx, stories.Actor{UserID: owner.ID, Role: models.RoleStoryteller}, stories.Input{
			Title: fmt.Sprintf("Back at work, story %d", i), Slug: fmt.Sprintf("bench-%d", i), Summary: "Summary.", Body: "Body of the story.",
			Channels: benchChannels, Copy: cp, OwnerID: owner.ID, PatientID: p.ID})
		if err != nil {
			b.Fatal(err)
		}
		env.MarkApproved(b, st.ID)
		if _, err := env.App.Export.Schedule(ctx, actor, st.ID, benchChannels, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// replica is one running replica process.
type replica struct {
	cmd  *exec.Cmd
	done chan error
}

func startReplica(b *testing.B, env *apptest.Env, name string, workers int) *replica {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cfg := env.App.Config
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		dbURL = "sqlite:" + cfg.DataDir + "/storykeep.db"
	}
	cmd.Env = append(os.Environ(),
		replicaEnv+"=1",
		"STORYKEEP_DATA_DIR="+cfg.DataDir,
		"STORYKEEP_DATABASE_URL="+dbURL,
		"STORYKEEP_LISTEN=127.0.0.1:0",
		"STORYKEEP_OUTBOUND_ALLOW_HOSTS=127.0.0.1,localhost",
		"STORYKEEP_REPLICA_ID="+name,
		"STORYKEEP_WORKERS="+strconv.Itoa(workers),
		"STORYKEEP_SHUTDOWN_GRACE=20s",
	)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r := &replica{cmd: cmd, done: make(chan error, 1)}
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			once.Do(func() { close(readyc) })
		}
		r.done <- cmd.Wait()
	}()
	select {
	case <-readyc:
	case err := <-r.done:
		b.Fatalf("replica %s exited before it was ready: %v", name, err)
	case <-time.After(60 * time.Second):
		b.Fatalf("replica %s not ready in 60 s", name)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
		}
	})
	return r
}

func sentCount(b *testing.B, env *apptest.Env) int64 {
	var n int64
	if err := env.App.DB.Model(&models.Delivery{}).Where("state = ?", models.DeliverySent).Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	return n
}

func driverName(env *apptest.Env) string {
	d, err := env.App.Config.Database()
	if err != nil {
		return "?"
	}
	return d.Driver
}

// deliveryRun seeds, starts the replicas, applies the fault once a third
// of the deliveries are recorded as sent, and waits for all of them.
func deliveryRun(b *testing.B, replicas int, fault string) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("STORYKEEP_BENCH_STORIES")); err == nil && v > 0 {
		n = v
	}
	workers := 8
	if v, err := strconv.Atoi(os.Getenv("STORYKEEP_BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	latency := 20 * time.Millisecond
	if v, err := time.ParseDuration(os.Getenv("STORYKEEP_BENCH_LATENCY")); err == nil {
		latency = v
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rc := newReceiver(latency)
		env := apptest.New(b)
		seedStart := time.Now()
		seedDeliveries(b, env, n, rc.URL)
		seeded := time.Since(seedStart)
		want := int64(n * len(benchChannels))
		b.StartTimer()
		start := time.Now()
		var procs []*replica
		for r := 0; r < replicas; r++ {
			procs = append(procs, startReplica(b, env, fmt.Sprintf("bench-%d", r), workers))
		}
		var faultAt time.Time
		deadline := time.Now().Add(10 * time.Minute)
		for {
			sent := sentCount(b, env)
			if fault != "" && faultAt.IsZero() && sent >= want/3 {
				faultAt = time.Now()
				last := procs[len(procs)-1]
				switch fault {
				case "kill":
					_ = last.cmd.Process.Kill()
				case "term":
					_ = last.cmd.Process.Signal(syscall.SIGTERM)
				case "term-restart":
					// A rolling restart of the only replica: drain, then a
					// new process under the same replica id.
					_ = last.cmd.Process.Signal(syscall.SIGTERM)
					if err := <-last.done; err != nil {
						b.Fatalf("replica did not stop cleanly on SIGTERM: %v", err)
					}
					last.done <- nil
					procs[len(procs)-1] = startReplica(b, env, fmt.Sprintf("bench-%d", len(procs)-1), workers)
				}
			}
			if sent >= want {
				break
			}
			if time.Now().After(deadline) {
				unique, dups, _ := rc.counts()
				b.Fatalf("%d of %d deliveries sent after 10 min (receiver: %d distinct, %d duplicate)", sent, want, unique, dups)
			}
			time.Sleep(50 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		unique, dups, last := rc.counts()
		lost := int(want) - unique
		afterFault := "-"
		if !faultAt.IsZero() {
			afterFault = last.Sub(faultAt).Round(10 * time.Millisecond).String()
		}
		rate := float64(want) / elapsed.Seconds()
		b.ReportMetric(rate, "deliveries/s")
		b.ReportMetric(float64(dups), "duplicates")
		b.ReportMetric(float64(lost), "lost")
		label := fault
		if label == "" {
			label = "none"
		}
		fmt.Printf("| %s | %d | %s | %d | %d | %s | %.0f | %d | %d | %s | seed %s |\n", driverName(env), replicas, label, workers, want, elapsed.Round(10*time.Millisecond), rate, lost, dups, afterFault, seeded.Round(time.Second))
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
			}
		}
		rc.Close()
	}
}

// BenchmarkDeliveryLoad: one replica, two replicas, two with one killed
// (kill -9) and two with one stopped (SIGTERM) a third of the way through.
// Two replicas need PostgreSQL; on SQLite only the one-replica runs.
func BenchmarkDeliveryLoad(b *testing.B) {
	b.Run("replicas=1", func(b *testing.B) { deliveryRun(b, 1, "") })
	b.Run("replicas=1/sigterm-restart", func(b *testing.B) { deliveryRun(b, 1, "term-restart") })
	if os.Getenv("STORYKEEP_TEST_DB") != "postgres" {
		return
	}
	b.Run("replicas=2", func(b *testing.B) { deliveryRun(b, 2, "") })
	b.Run("replicas=2/kill-9", func(b *testing.B) { deliveryRun(b, 2, "kill") })
	b.Run("replicas=2/sigterm", func(b *testing.B) { deliveryRun(b, 2, "term") })
}

// countQueries counts the statements db runs, by their text, and returns a
// function printing the tally to stderr (STORYKEEP_BENCH_QUERIES=1: where a
// delivery's database round trips go).
func countQueries(db *gorm.DB) func() {
	var mu sync.Mutex
	seen := map[string]int{}
	count := func(tx *gorm.DB) {
		q := tx.Statement.SQL.String()
		if len(q) > 110 {
			q = q[:110]
		}
		mu.Lock()
		seen[q]++
		mu.Unlock()
	}
	cb := db.Callback()
	_ = cb.Query().After("gorm:query").Register("bench:count", count)
	_ = cb.Create().After("gorm:create").Register("bench:count", count)
	_ = cb.Update().After("gorm:update").Register("bench:count", count)
	_ = cb.Delete().After("gorm:delete").Register("bench:count", count)
	_ = cb.Raw().After("gorm:raw").Register("bench:count", count)
	_ = cb.Row().After("gorm:row").Register("bench:count", count)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		type kv struct {
			q string
			n int
		}
		var all []kv
		for q, n := range seen {
			all = append(all, kv{q, n})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
		for _, e := range all {
			fmt.Fprintf(os.Stderr, "QUERIES %6d %s\n", e.n, e.q)
		}
	}
}
