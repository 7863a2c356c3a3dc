package web_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// BenchmarkStoryPage opens one story page (render, Markdown, PHI scan,
// timeline, comments) through the real router over a seeded database of
// STORYKEEP_BENCH_STORIES stories (default 2,000).
func BenchmarkStoryPage(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("STORYKEEP_BENCH_STORIES")); err == nil && v > 0 {
		n = v
	}
	env := apptest.New(b)
	c, u := env.SignedIn(models.RoleStoryteller)
	patient := addPatient(env, u.ID, "Maria Lopez")
	ctx := audit.WithActor(context.Background(), audit.System)
	actor := stories.Actor{UserID: u.ID, Role: u.Role}
	for i := 0; i < n; i += 500 {
		var ins []stories.Input
		for j := i; j < min(n, i+500); j++ {
			ins = append(ins, stories.DemoInput("p", j, u.ID, patient, "Maria Lopez"))
		}
		if err := env.App.Stories.CreateMany(ctx, actor, ins); err != nil {
			b.Fatal(err)
		}
	}
	page, err := env.App.Stories.List(ctx, stories.Filter{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	path := "/stories/" + page.Rows[0].ID
	b.ResetTimer()
	for b.Loop() {
		c.Get(path).Expect(http.StatusOK)
	}
}
