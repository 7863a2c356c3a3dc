package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/models"
)

// adminRetention shows the retention setting, whether evidence is kept
// write-once, what has passed retention (the daily report, computed now),
// the active legal holds with forms to set and lift them, and the purge.
func (s *Server) adminRetention(c echo.Context) error {
	return s.renderRetention(c, http.StatusOK, nil, nil)
}

func (s *Server) renderRetention(c echo.Context, status int, errs, form map[string]string) error {
	if s.retention == nil {
		return apperr.New(http.StatusServiceUnavailable, "Retention is not available on this server.")
	}
	ctx := c.Request().Context()
	rep, err := s.retention.Due(ctx)
	if err != nil {
		return err
	}
	holds, err := s.retention.Holds(ctx)
	if err != nil {
		return err
	}
	var last models.AuditEntry
	if err := s.db.WithContext(ctx).Where("action = ?", "retention.due").Order("id DESC").Limit(1).Find(&last).Error; err != nil {
		return err
	}
	if form == nil {
		form = map[string]string{"subject_type": models.HoldPatient}
	}
	return s.render(c, status, "admin_retention", Page{Title: "Retention and legal holds", Errors: errs, Form: form, Data: map[string]any{
		"Years": s.retention.Years(), "WriteOnce": s.retention.WriteOnce(ctx), "Due": rep.Due, "Held": rep.Held, "Holds": holds,
		"LastReport": last, "HoldPatient": models.HoldPatient, "HoldStory": models.HoldStory,
	}})
}

// adminHoldSet puts a patient or a story under a legal hold (audited by the
// retention service).
func (s *Server) adminHoldSet(c echo.Context) error {
	if s.retention == nil {
		return apperr.New(http.StatusServiceUnavailable, "Retention is not available on this server.")
	}
	form := map[string]string{"subject_type": c.FormValue("subject_type"), "subject_id": strings.TrimSpace(c.FormValue("subject_id")),
		"reason": c.FormValue("reason")}
	h, err := s.retention.SetHold(c.Request().Context(), form["subject_type"], form["subject_id"], form["reason"])
	if e, ok := apperr.As(err); ok && (e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusNotFound) {
		field := "subject_id"
		if strings.HasPrefix(e.Msg, "Say why") {
			field = "reason"
		}
		return s.renderRetention(c, http.StatusUnprocessableEntity, map[string]string{field: e.Msg}, form)
	}
	if err != nil {
		return err
	}
	s.flash(c, "The legal hold is set on the "+h.SubjectType+". Nothing of it can be deleted or purged until the hold is lifted.")
	return s.redirect(c, "/admin/retention")
}

// adminHoldLift lifts an active hold (audited).
func (s *Server) adminHoldLift(c echo.Context) error {
	if s.retention == nil {
		return apperr.New(http.StatusServiceUnavailable, "Retention is not available on this server.")
	}
	if err := s.retention.LiftHold(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "The legal hold is lifted.")
	return s.redirect(c, "/admin/retention")
}

// adminRetentionPurge deletes what has passed retention, each item audited.
// The admin confirms by typing "purge", and the form carries the number of
// items shown: if the list changed since, nothing is deleted and the page
// is shown again.
func (s *Server) adminRetentionPurge(c echo.Context) error {
	if s.retention == nil {
		return apperr.New(http.StatusServiceUnavailable, "Retention is not available on this server.")
	}
	ctx := c.Request().Context()
	form := map[string]string{"confirm": c.FormValue("confirm")}
	if strings.TrimSpace(strings.ToLower(form["confirm"])) != "purge" {
		return s.renderRetention(c, http.StatusUnprocessableEntity, map[string]string{"confirm": `Type "purge" to confirm that this evidence is deleted for good.`}, form)
	}
	rep, err := s.retention.Due(ctx)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(c.FormValue("count")); err != nil || n != len(rep.Due) {
		return s.renderRetention(c, http.StatusConflict, map[string]string{"confirm": "The list changed since you opened this page. Check it again; nothing was deleted."}, nil)
	}
	p, err := s.retention.Purge(ctx)
	if err != nil {
		n := 0
		if p != nil {
			n = len(p.Items)
		}
		s.log.Error("retention purge stopped", "purged", n, "err", err)
		return apperr.Wrap(http.StatusConflict, strconv.Itoa(n)+" item(s) were purged, then the purge stopped at an item it could not delete. The rest is kept; try again, or see the server log.", err)
	}
	s.flash(c, strconv.Itoa(len(p.Items))+" item(s) past retention were purged. Each deletion is in the audit log.")
	return s.redirect(c, "/admin/retention")
}
