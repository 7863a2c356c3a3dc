package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/audit"
)

func (s *Server) adminAudit(c echo.Context) error {
	form := map[string]string{}
	for _, k := range []string{"actor", "action", "object_type", "object_id", "from", "to"} {
		form[k] = c.QueryParam(k)
	}
	f := audit.Filter{ActorID: form["actor"], Action: form["action"], ObjectType: form["object_type"], ObjectID: form["object_id"], Limit: 50}
	data := map[string]any{}
	var bad string
	if v := form["from"]; v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad = "“From” must be a date like 2026-01-31."
		}
		f.From = t
	}
	if v := form["to"]; v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad = "“To” must be a date like 2026-01-31."
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad = "The page cursor is not valid; start again from the first page."
		}
		f.BeforeID = n
	}
	status := http.StatusOK
	if bad != "" {
		data["Error"] = bad
		status = http.StatusBadRequest
	} else {
		rows, next, err := s.audit.List(c.Request().Context(), f)
		if err != nil {
			return err
		}
		data["Entries"] = rows
		if next > 0 {
			q := url.Values{}
			for k, v := range form {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("before", strconv.FormatInt(next, 10))
			data["Next"] = next
			data["NextURL"] = "/admin/audit?" + q.Encode()
		}
	}
	return s.render(c, status, "admin_audit", Page{Title: "Audit log", Form: form, Data: data})
}
