package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/storage"
)

// streamObject sends a stored object with single-range support (video
// seeking, resumed downloads). Staff media is private: it is never cached by
// shared caches.
func (s *Server) streamObject(c echo.Context, key, contentType, fileName string) error {
	ctx := c.Request().Context()
	info, err := s.store.Stat(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Accept-Ranges", "bytes")
	// Staff and patient media: not kept by the browser or any cache (F19;
	// shared workstations, the back button after sign-out). The public
	// crop overrides this just before the header is written.
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Type", contentType)
	if fileName != "" {
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": fileName}))
	}
	offset, length, partial, ok := parseRange(c.Request().Header.Get("Range"), info.Size)
	if !ok {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", info.Size))
		return c.NoContent(http.StatusRequestedRangeNotSatisfiable)
	}
	rc, _, err := s.store.OpenRange(ctx, key, offset, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, info.Size))
	}
	c.Response().WriteHeader(status)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err = io.Copy(c.Response(), rc)
	return err
}

// parseRange understands one "bytes=a-b", "bytes=a-" or "bytes=-n" range.
// Several ranges are answered with the whole object, which RFC 9110 allows.
func parseRange(h string, size int64) (offset, length int64, partial, ok bool) {
	if h == "" || !strings.HasPrefix(h, "bytes=") || strings.Contains(h, ",") {
		return 0, size, false, true
	}
	a, b, found := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	if !found {
		return 0, size, false, true
	}
	switch {
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false, false
		}
		if n > size {
			n = size
		}
		return size - n, n, true, size > 0
	default:
		start, err := strconv.ParseInt(a, 10, 64)
		if err != nil || start < 0 || start >= size {
			return 0, 0, false, false
		}
		end := size - 1
		if b != "" {
			e, err := strconv.ParseInt(b, 10, 64)
			if err != nil || e < start {
				return 0, 0, false, false
			}
			if e < end {
				end = e
			}
		}
		return start, end - start + 1, true, true
	}
}
