package web_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

func TestDeadLetterViewAndRetry(t *testing.T) {
	env := apptest.New(t)
	q := env.App.Jobs
	q.Handle("webhook.deliver", func(context.Context, *models.Job) error {
		return jobs.Permanent(errors.New("receiver answered 410 Gone"))
	})
	j, _ := q.Enqueue(context.Background(), nil, "webhook.deliver", nil, jobs.Options{})
	q.RunOnce(context.Background())
	admin, _ := env.SignedIn(models.RoleAdmin)
	page := admin.Get("/admin/jobs").Expect(http.StatusOK)
	page.Contains("webhook.deliver").Contains("receiver answered 410 Gone")
	admin.Post("/admin/jobs/"+j.ID+"/retry", nil).Expect(http.StatusSeeOther)
	admin.Get("/admin/jobs").Contains("The job is queued again.").Contains("No failed jobs.")
	admin.Post("/admin/jobs/"+j.ID+"/retry", nil).Expect(http.StatusConflict).Contains("Only a job that has failed every attempt, or one waiting to try again, can be retried.")
}
