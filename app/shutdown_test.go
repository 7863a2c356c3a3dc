package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Finding (fault runs §6): Serve returned 0.2 ms after SIGTERM without
// waiting for its job workers, so a post the receiver accepted was never
// recorded as sent. Serve now drains the workers within the grace.
func TestF6ServeDrainsJobWorkersOnSIGTERM(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.ListenAddr = "127.0.0.1:0"; c.ShutdownGrace = 10 * time.Second })
	started := make(chan struct{})
	env.App.Jobs.Handle("test.slowpost", func(ctx context.Context, j *models.Job) error {
		close(started)
		select {
		case <-time.After(700 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	j, err := env.App.Jobs.Enqueue(context.Background(), nil, "test.slowpost", nil, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- env.App.Serve(ctx, nil) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("job never started")
	}
	cancel() // SIGTERM
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	var got models.Job
	env.App.DB.Take(&got, "id = ?", j.ID)
	if got.Status != models.JobDone {
		t.Fatalf("job in flight at SIGTERM is %s (%q), want done before Serve returns", got.Status, got.LastError)
	}
}
