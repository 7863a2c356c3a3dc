package web

import (
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storykeep/storykeep/app/config"
)

// uploadLane admits uploads (finding F9) in a lane of their own: page
// admission skips them because a streamed body would hold a page slot for
// minutes, but unbounded they let thirty parallel uploads exhaust the host.
// Here at most cap(slots) uploads run at once; the others wait in arrival
// order up to maxWait, then get 503 with Retry-After. Only signed-in staff
// take a slot (the lane runs after the session and CSRF checks); anything
// else passes on to be refused by the route's permission check. The photo
// decoding inside an upload is bounded separately, by bytes, by
// media.SetDecodeBudget.
type uploadLane struct {
	slots   chan struct{}
	maxWait time.Duration
	waiting prometheus.Gauge
}

// uploadLaneRoutes are the routes the lane admits: the streamed uploads and
// the completion of a resumable upload, which ingests the staged file.
var uploadLaneRoutes = map[string]bool{"/uploads/:id/complete": true}

func maxConcurrentUploads(c *config.Config) int {
	if c.MaxConcurrentUploads > 0 {
		return c.MaxConcurrentUploads
	}
	return 4 * runtime.GOMAXPROCS(0)
}

func newUploadLane(n int, maxWait time.Duration, reg *prometheus.Registry) *uploadLane {
	l := &uploadLane{slots: make(chan struct{}, n), maxWait: maxWait, waiting: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "storykeep_http_uploads_waiting", Help: "Uploads waiting for a free slot (STORYKEEP_MAX_CONCURRENT_UPLOADS).",
	})}
	reg.MustRegister(l.waiting)
	return l
}

func (l *uploadLane) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Path()
		if !uploadRoutes[p] && !uploadLaneRoutes[p] {
			return next(c)
		}
		if c.Get(userKey) == nil {
			return next(c)
		}
		select {
		case l.slots <- struct{}{}:
		default:
			l.waiting.Inc()
			t := time.NewTimer(l.maxWait)
			select {
			case l.slots <- struct{}{}:
				t.Stop()
				l.waiting.Dec()
			case <-t.C:
				l.waiting.Dec()
				c.Response().Header().Set("Retry-After", "5")
				return echo.NewHTTPError(http.StatusServiceUnavailable, "Many uploads are running right now. Wait a moment and try again.")
			case <-c.Request().Context().Done():
				t.Stop()
				l.waiting.Dec()
				return c.Request().Context().Err()
			}
		}
		defer func() { <-l.slots }()
		return next(c)
	}
}
