package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/cdn"
	"github.com/storykeep/storykeep/models"
)

// adminJobs shows the queue's counts, dead jobs (the dead-letter view) and
// jobs waiting to retry after a failure.
func (s *Server) adminJobs(c echo.Context) error {
	ctx := c.Request().Context()
	counts, err := s.jobs.Counts(ctx)
	if err != nil {
		return err
	}
	dead, err := s.jobs.List(ctx, models.JobDead, 100)
	if err != nil {
		return err
	}
	pending, err := s.jobs.List(ctx, models.JobPending, 100)
	if err != nil {
		return err
	}
	var retrying []models.Job
	for _, j := range pending {
		if j.Attempts > 0 {
			retrying = append(retrying, j)
		}
	}
	open, err := s.export.OpenTakedowns(ctx)
	if err != nil {
		return err
	}
	var purges []cdn.OpenPurge
	if s.cdn != nil {
		if purges, err = s.cdn.Open(ctx); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "admin_jobs", Page{Title: "Jobs", Data: map[string]any{
		"OpenTakedowns": open, "OpenPurges": purges, "Counts": counts, "Dead": dead, "Retrying": retrying,
		"States": []string{models.JobPending, models.JobRunning, models.JobDone, models.JobDead, models.JobCancelled},
	}})
}

func (s *Server) adminJobRetry(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.jobs.Retry(ctx, c.Param("id")); err != nil {
		return apperr.Wrap(http.StatusConflict, "Only a job that has failed every attempt, or one waiting to try again, can be retried.", err)
	}
	if err := s.audit.Record(ctx, nil, audit.Entry{Action: "job.retry", ObjectType: "job", ObjectID: c.Param("id")}); err != nil {
		return err
	}
	s.flash(c, "The job is queued again.")
	return s.redirect(c, "/admin/jobs")
}
