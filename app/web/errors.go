package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/db"
)

var headings = map[int]string{
	http.StatusBadRequest:            "Something in the request was not right",
	http.StatusUnauthorized:          "Please sign in",
	http.StatusForbidden:             "You don't have access to this",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "That action is not available here",
	http.StatusGone:                  "This page has been withdrawn",
	http.StatusRequestEntityTooLarge: "That was too large",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusInternalServerError:   "Something went wrong",
	http.StatusServiceUnavailable:    "Storykeep is temporarily unavailable",
}

func isNotFound(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Status == http.StatusNotFound
}

// isUnavailable recognises a database that cannot be reached, or that
// dropped the connection (e.g. PostgreSQL's SQLSTATE 57P01 on a restart).
func isUnavailable(err error) bool {
	return db.IsUnavailable(err)
}

// handleError is the one place errors become responses: the real error is
// logged with the request id; the person sees a plain, safe message.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away; nobody is left to read an answer.
		s.log.Debug("request cancelled by the client", "route", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return
	}
	status, msg := http.StatusInternalServerError, "Storykeep hit an unexpected problem. Nothing was changed. Try again, and tell your admin if it keeps happening."
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		if status == http.StatusNotFound {
			msg = "There is nothing at this address. Check the link, or start again from the dashboard."
		}
		if status == http.StatusMethodNotAllowed {
			msg = "This address does not accept that kind of request."
		}
	case isAppErr(err):
		e, _ := apperr.As(err)
		status, msg = e.Status, e.Msg
	case isUnavailable(err):
		status, msg = http.StatusServiceUnavailable, "Storykeep cannot reach its database right now. Your last change was not saved. Try again in a minute."
	}
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		s.log.Error("request failed", "err", err, "status", status, "route", c.Path(), "request_id", rid)
	}
	if strings.HasPrefix(c.Request().Header.Get("Accept"), "application/json") {
		_ = c.JSON(status, map[string]string{"error": msg, "request_id": rid})
		return
	}
	heading := headings[status]
	if heading == "" {
		heading = http.StatusText(status)
	}
	p := Page{Title: heading, Data: map[string]any{"Heading": heading, "Message": msg, "RequestID": rid}}
	// Rendering must not depend on the database or the session when those are what failed.
	p.User = currentUser(c)
	p.Version = Version
	p.CSRF = s.csrfToken(c)
	if rerr := s.renderer.write(c, status, "error", p); rerr != nil {
		s.log.Error("rendering error page", "err", rerr, "request_id", rid)
		_ = c.String(status, heading+": "+msg)
	}
}

func isAppErr(err error) bool { _, ok := apperr.As(err); return ok }

// sessionError is called by the session manager when the session store
// fails (for example, the database is down).
func (s *Server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("session store", "err", err, "request_id", w.Header().Get(echo.HeaderXRequestID))
	c := s.echo.NewContext(r, w)
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	s.handleError(apperr.Wrap(http.StatusServiceUnavailable, "Storykeep cannot reach its database right now. Your last change was not saved. Try again in a minute.", err), c)
}
