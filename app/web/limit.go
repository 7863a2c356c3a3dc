package web

import (
	"net/http"
	"runtime"
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
type admission struct {
	slots   chan struct{}
	maxWait time.Duration
	waiting prometheus.Gauge
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

func newAdmission(n int, maxWait time.Duration, reg *prometheus.Registry) *admission {
	a := &admission{slots: make(chan struct{}, n), maxWait: maxWait, waiting: prometheus.NewGauge(prometheus.GaugeOpts{
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
		select {
		case a.slots <- struct{}{}:
		default:
			a.waiting.Inc()
			t := time.NewTimer(a.maxWait)
			select {
			case a.slots <- struct{}{}:
				t.Stop()
				a.waiting.Dec()
			case <-t.C:
				a.waiting.Dec()
				c.Response().Header().Set("Retry-After", "2")
				return echo.NewHTTPError(http.StatusServiceUnavailable, "Storykeep is very busy right now. Wait a moment and try again.")
			case <-c.Request().Context().Done():
				t.Stop()
				a.waiting.Dec()
				return c.Request().Context().Err()
			}
		}
		defer func() { <-a.slots }()
		return next(c)
	}
}
