package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/storage"
)

// healthz says the process is up; it touches nothing else.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this replica can serve: the database answers and every
// other dependency (object storage…) is ready. 503 tells the load balancer to
// route elsewhere.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	status := http.StatusOK
	if err := db.Ping(ctx, s.db); err != nil {
		checks["database"] = "unavailable"
		status = http.StatusServiceUnavailable
	} else {
		checks["database"] = "ok"
	}
	for name, check := range s.ready {
		if err := check(ctx); err != nil {
			checks[name] = "unavailable"
			status = http.StatusServiceUnavailable
		} else {
			checks[name] = "ok"
		}
	}
	// Whether evidence is write-once (S3 Object Lock and its mode, or local
	// read-only files): shown, not a reason to refuse traffic.
	if r, ok := s.store.(storage.Retainer); ok {
		checks["object_lock"] = r.WriteOnce(ctx).String()
	}
	return c.JSON(status, checks)
}

// staticFile serves embedded assets; a current hash gets a year of caching.
func (s *Server) staticFile(c echo.Context) error {
	name := c.Param("*")
	b, current, err := s.assets.Open(c.Param("hash"), name)
	if err != nil {
		return echo.ErrNotFound
	}
	if current {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	return c.Blob(http.StatusOK, contentType(name), b)
}

func (s *Server) favicon(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, s.assets.URL("img/favicon.svg"))
}

func contentType(name string) string {
	switch {
	case hasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case hasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case hasSuffix(name, ".svg"):
		return "image/svg+xml"
	case hasSuffix(name, ".png"):
		return "image/png"
	}
	return "application/octet-stream"
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }
