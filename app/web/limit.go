package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
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
