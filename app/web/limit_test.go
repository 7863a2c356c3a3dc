package web

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storykeep/storykeep/app/config"
)

// TestAdmissionQueuesInOrderAndSparesProbes: with one slot, page requests
// run one at a time in arrival order, a request that waits too long gets a
// 503 with Retry-After, and probes answer while pages queue.
func TestAdmissionQueuesInOrderAndSparesProbes(t *testing.T) {
	a := newAdmission(1, 1, 300*time.Millisecond, prometheus.NewRegistry())
	e := echo.New()
	e.Use(a.middleware)
	var (
		mu      sync.Mutex
		order   []string
		entered = make(chan string, 10)
		release = make(chan struct{})
	)
	e.GET("/page/:n", func(c echo.Context) error {
		mu.Lock()
		order = append(order, c.Param("n"))
		mu.Unlock()
		entered <- c.Param("n")
		<-release
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(e)
	defer srv.Close()

	get := func(path string) (*http.Response, error) { return http.Get(srv.URL + path) }
	var wg sync.WaitGroup
	statuses := make(map[string]int)
	fetch := func(n string) {
		defer wg.Done()
		res, err := get("/page/" + n)
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
		mu.Lock()
		statuses[n] = res.StatusCode
		mu.Unlock()
	}
	wg.Add(1)
	go fetch("first")
	<-entered // "first" holds the only slot

	if res, err := get("/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the probe waited behind a page: %v %v", res, err)
	}
	res, err := get("/page/late")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a request that waited too long got %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}

	// Three more queue in order while "first" runs; then all are let through.
	a.maxWait = 10 * time.Second
	for _, n := range []string{"a", "b", "c"} {
		wg.Add(1)
		go fetch(n)
		time.Sleep(50 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if got := order; len(got) != 4 || got[0] != "first" || got[1] != "a" || got[2] != "b" || got[3] != "c" {
		t.Fatalf("handled in order %v, want first a b c", got)
	}
	for n, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("%s: %d", n, st)
		}
	}
}

// TestMaxConcurrent: a set value wins; 0 chooses by database.
func TestMaxConcurrent(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		cfg  config.Config
		want int
	}{
		{config.Config{MaxConcurrentRequests: 3}, 3},
		{config.Config{}, 2 * cores},
		{config.Config{DatabaseURL: "postgres://db/storykeep"}, 4 * cores},
	} {
		if got := maxConcurrent(&c.cfg); got != c.want {
			t.Errorf("%+v: %d, want %d", c.cfg.DatabaseURL, got, c.want)
		}
	}
}

// TestF4SlotsPerIP: one client IP holds at most perIP slots; its next
// request waits (here: times out) while another client is served.
func TestF4SlotsPerIP(t *testing.T) {
	a := newAdmission(4, 2, 300*time.Millisecond, prometheus.NewRegistry())
	e := echo.New()
	e.IPExtractor = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	e.Use(a.middleware)
	entered, release := make(chan struct{}, 10), make(chan struct{})
	e.GET("/slow", func(c echo.Context) error { entered <- struct{}{}; <-release; return c.String(http.StatusOK, "ok") })
	e.GET("/fast", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func(path, ip string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("X-Test-IP", ip)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); get("/slow", "10.0.0.1") }()
		<-entered
	}
	if st := get("/fast", "10.0.0.1"); st != http.StatusServiceUnavailable {
		t.Fatalf("a third request from the same IP got %d, want to wait and 503", st)
	}
	if st := get("/fast", "10.0.0.2"); st != http.StatusOK {
		t.Fatalf("another client got %d", st)
	}
	close(release)
	wg.Wait()
	if st := get("/fast", "10.0.0.1"); st != http.StatusOK {
		t.Fatalf("after its requests ended, the first client got %d", st)
	}
	if len(a.ips) != 0 {
		t.Fatalf("per-IP entries left behind: %d", len(a.ips))
	}
}
