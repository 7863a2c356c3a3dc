package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storykeep/storykeep/models"
)

// TestF9UploadsHaveTheirOwnAdmissionLane: uploads by signed-in staff take a
// slot of the upload lane (a second one waits, then gets 503 with
// Retry-After), while pages and anonymous requests pass through the lane.
func TestF9UploadsHaveTheirOwnAdmissionLane(t *testing.T) {
	l := newUploadLane(1, 200*time.Millisecond, prometheus.NewRegistry())
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("X-Test-User") != "" {
				c.Set(userKey, &models.User{ID: "u1"})
			}
			return next(c)
		}
	})
	e.Use(l.middleware)
	entered, release := make(chan struct{}, 4), make(chan struct{})
	block := func(c echo.Context) error {
		entered <- struct{}{}
		<-release
		return c.NoContent(http.StatusNoContent)
	}
	e.POST("/uploads/:id/complete", block)
	e.POST("/stories/:id/media", block)
	e.GET("/stories", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	srv := httptest.NewServer(e)
	defer srv.Close()
	do := func(method, path string, user bool) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if user {
			req.Header.Set("X-Test-User", "1")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		return res.StatusCode
	}
	first := make(chan int)
	go func() { first <- do(http.MethodPost, "/uploads/1/complete", true) }()
	<-entered // the first upload holds the only slot
	if got := do(http.MethodPost, "/stories/1/media", true); got != http.StatusServiceUnavailable {
		t.Errorf("second upload: %d, want 503", got)
	}
	if got := do(http.MethodGet, "/stories", true); got != http.StatusOK {
		t.Errorf("page while the lane is full: %d, want 200", got)
	}
	anon := make(chan int)
	go func() { anon <- do(http.MethodPost, "/stories/1/media", false) }()
	<-entered // anonymous requests do not queue in the lane
	close(release)
	if got := <-first; got != http.StatusNoContent {
		t.Errorf("first upload: %d", got)
	}
	if got := <-anon; got != http.StatusNoContent {
		t.Errorf("anonymous request: %d", got)
	}
}
