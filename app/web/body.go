package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	// maxFormBody is the largest body a non-upload request may send.
	maxFormBody = 2 << 20
	// bodyReadTimeout bounds how long a client may take to send a
	// non-upload body (F4). A 2 MB form over a slow 3G link takes ~10 s.
	bodyReadTimeoutDefault = 20 * time.Second
)

// bodyReadTimeout is a variable so tests can shorten it.
var bodyReadTimeout = bodyReadTimeoutDefault

// readBody reads and limits a request's body before the request takes an
// admission slot (F4), so a client that sends its body slowly holds a
// connection, not a slot. The body is read under its own deadline and then
// served from memory. Upload routes stream their bodies and are skipped
// (the media pipeline limits them while streaming).
func readBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody || uploadRoutes[c.Path()] {
			return next(c)
		}
		limit := int64(maxFormBody)
		if paperFormRoutes[c.Path()] {
			limit = maxPaperFormBody
		}
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "What you sent is too large.")
		}
		rc := http.NewResponseController(c.Response())
		deadline := rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) == nil
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if deadline {
			_ = rc.SetReadDeadline(time.Time{})
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.Response().Header().Set("Connection", "close")
				return echo.NewHTTPError(http.StatusRequestTimeout, "Sending took too long. Try again.")
			}
			return echo.NewHTTPError(http.StatusBadRequest, "The request was interrupted. Try again.").SetInternal(err)
		}
		if int64(len(b)) > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "What you sent is too large.")
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		return next(c)
	}
}

// SetBodyReadTimeout changes the body deadline (for tests) and returns a
// function restoring it.
func SetBodyReadTimeout(d time.Duration) (restore func()) {
	old := bodyReadTimeout
	bodyReadTimeout = d
	return func() { bodyReadTimeout = old }
}
