package web

import (
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storykeep/storykeep/app/config"
)

// admission lets at most cap(slots) page requests run at once; the others
// wait their turn in arrival order (goroutines blocked sending on a Go
// channel are woken first come, first served). On a small machine, running
// a few requests to completion instead of time-slicing fifty keeps the
// slowest requests close to the typical one and spares the garbage
// collector fifty half-built pages. Streams (uploads, media, bundles) and
// probes are not admitted through it: they would hold a slot for minutes,
// and a probe must answer while pages queue.
//
// One client IP holds at most perIP slots at once (F4); its further requests
// wait for one of its own slots, so a single client cannot starve the rest.
type admission struct {
	slots   chan struct{}
	maxWait time.Duration
	waiting prometheus.Gauge

	perIP int
	mu    sync.Mutex
	ips   map[string]*ipSlots
}

// ipSlots are one client IP's slots; users counts requests holding or
// waiting for one, so the entry goes when the last leaves.
type ipSlots struct {
	ch    chan struct{}
	users int
}

// unlimited are routes that bypass admission (see admission).
var unlimited = map[string]bool{
	"/media/:id/file": true, "/media/:id/r/:name": true, publicImagePath: true,
	"/stories/:id/export.zip": true, "/uploads/:id/complete": true,
}

// maxConcurrent is STORYKEEP_MAX_CONCURRENT_REQUESTS, or when 0 a number
// that measured best on the 2-core reference machine: SQLite runs in this
// process, so more requests than cores only take turns on them (2 per core
// lets one wait on I/O); PostgreSQL does its share in its own processes,
// which 4 per core keeps busy.
func maxConcurrent(c *config.Config) int {
	if c.MaxConcurrentRequests > 0 {
		return c.MaxConcurrentRequests
	}
	per := 4
	if dbc, err := c.Database(); err == nil && dbc.Driver == "sqlite" {
		per = 2
	}
	return per * runtime.GOMAXPROCS(0)
}

// maxPerIP is STORYKEEP_MAX_REQUESTS_PER_IP, or when 0 half the slots
// (at least one), so one client always leaves room for others.
func maxPerIP(c *config.Config, n int) int {
	if c.MaxRequestsPerIP > 0 {
		return min(c.MaxRequestsPerIP, n)
	}
	return max(1, n/2)
}

func newAdmission(n, perIP int, maxWait time.Duration, reg *prometheus.Registry) *admission {
	a := &admission{slots: make(chan struct{}, n), perIP: perIP, ips: map[string]*ipSlots{}, maxWait: maxWait, waiting: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "storykeep_http_requests_waiting", Help: "Page requests waiting for a free slot (STORYKEEP_MAX_CONCURRENT_REQUESTS).",
	})}
	reg.MustRegister(a.waiting)
	return a
}

// middleware admits each request, or answers 503 with Retry-After when it
// waited maxWait without a slot, or gives up if the client went away.
func (a *admission) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Path()
		if stateless[p] || uploadRoutes[p] || unlimited[p] {
			return next(c)
		}
		addr := c.RealIP()
		ip := a.ipSlots(addr)
		defer a.leave(addr, ip)
		// The wait's timer is made only when a slot is not free at once:
		// under load, most requests (cached public pages) find one.
		var timeout <-chan time.Time
		for _, ch := range [2]chan struct{}{ip.ch, a.slots} {
			select {
			case ch <- struct{}{}:
				continue
			default:
			}
			if timeout == nil {
				t := time.NewTimer(a.maxWait)
				defer t.Stop()
				timeout = t.C
			}
			if err := a.acquire(c, ch, timeout); err != nil {
				if ch == a.slots {
					<-ip.ch
				}
				return err
			}
		}
		defer func() { <-ip.ch }()
		defer func() { <-a.slots }()
		return next(c)
	}
}

// acquire takes a slot from ch, waiting until timeout fires or the client
// goes away.
func (a *admission) acquire(c echo.Context, ch chan struct{}, timeout <-chan time.Time) error {
	select {
	case ch <- struct{}{}:
		return nil
	default:
	}
	a.waiting.Inc()
	defer a.waiting.Dec()
	select {
	case ch <- struct{}{}:
		return nil
	case <-timeout:
		c.Response().Header().Set("Retry-After", "2")
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Storykeep is very busy right now. Wait a moment and try again.")
	case <-c.Request().Context().Done():
		return c.Request().Context().Err()
	}
}

func (a *admission) ipSlots(ip string) *ipSlots {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.ips[ip]
	if s == nil {
		s = &ipSlots{ch: make(chan struct{}, a.perIP)}
		a.ips[ip] = s
	}
	s.users++
	return s
}

func (a *admission) leave(ip string, s *ipSlots) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(a.ips, ip)
	}
}
