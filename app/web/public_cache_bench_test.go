package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// benchGate allows the website with first name only. It says its answers
// follow from the database, as the real gate does, so the public cache is
// used; opaqueGate is the same without that, so every request asks it.
type benchGate struct{}

func (benchGate) Allowed(context.Context, string, string, []string, string) (bool, string, error) {
	return true, "", nil
}
func (benchGate) NameUsage(context.Context, string) (string, error) { return website.NameFirst, nil }
func (benchGate) AnswersFromDatabase() bool                         { return true }

type opaqueGate struct{ benchGate }

func (opaqueGate) AnswersFromDatabase() bool { return false }

// BenchmarkPublicStoryPage serves one published story page through the
// real router and middleware (no network): from the public cache, plain
// and gzipped, as a 304 to a client holding it, and rendered per request
// behind a gate the cache may not trust (the path every request took
// before the cache).
func BenchmarkPublicStoryPage(b *testing.B) {
	env := apptest.New(b)
	u, _ := env.CreateUser(models.RoleStoryteller)
	pub, _ := env.CreateUser(models.RolePublisher)
	ctx := audit.WithActor(context.Background(), audit.System)
	p := addPatient(env, u.ID, "Maria Lopez")
	in := stories.DemoInput("bench", 1, u.ID, p, "Maria Lopez")
	in.Channels, in.Copy = []string{website.Channel}, nil
	st, err := env.App.Stories.Create(ctx, stories.Actor{UserID: u.ID, Role: u.Role}, in)
	if err != nil {
		b.Fatal(err)
	}
	env.MarkApproved(b, st.ID)
	env.App.Website.Gate = benchGate{}
	if _, err := env.App.Stories.Transition(ctx, stories.Actor{UserID: pub.ID, Role: pub.Role}, st.ID, workflow.Published, "", 0); err != nil {
		b.Fatal(err)
	}
	var wp models.WebsitePublication
	if err := env.App.DB.Where("story_id = ?", st.ID).Take(&wp).Error; err != nil {
		b.Fatal(err)
	}
	path := "/p/" + wp.Slug
	h := env.App.Web.Handler()
	get := func(b *testing.B, hdr map[string]string, want int) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "192.0.2.1:1234"
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d", rec.Code, want)
		}
		return rec
	}
	// Past the window after the writes above, so the cache is in use.
	for {
		before, _ := env.App.PublicCache.Stats()
		get(b, nil, http.StatusOK)
		if after, _ := env.App.PublicCache.Stats(); after > before {
			break
		}
	}
	etag := get(b, nil, http.StatusOK).Header().Get("ETag")
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			get(b, nil, http.StatusOK)
		}
	})
	b.Run("cached-gzip", func(b *testing.B) {
		for b.Loop() {
			get(b, map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK)
		}
	})
	b.Run("not-modified", func(b *testing.B) {
		for b.Loop() {
			get(b, map[string]string{"If-None-Match": etag}, http.StatusNotModified)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		env.App.Website.Gate = opaqueGate{}
		defer func() { env.App.Website.Gate = benchGate{} }()
		for b.Loop() {
			get(b, map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK)
		}
	})
}
