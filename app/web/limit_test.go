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
