package stories_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/storykeep/storykeep/app/stories"
)

// benchN is how many stories the benchmarks seed: STORYKEEP_BENCH_STORIES,
// default 2,000 so CI stays quick.
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("STORYKEEP_BENCH_STORIES")); err == nil && n > 0 {
		return n
	}
	return 2000
}

func seeded(b *testing.B) *fixture {
	b.Helper()
	f := newFixture(b, nil)
	n := benchN()
	for i := 0; i < n; i += 500 {
		var ins []stories.Input
		for j := i; j < min(n, i+500); j++ {
			ins = append(ins, stories.DemoInput("b", j, f.teller.UserID, f.patient, "Maria Lopez"))
		}
		if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

func BenchmarkStoryList(b *testing.B) {
	f := seeded(b)
	b.ResetTimer()
	for b.Loop() {
		p, err := f.svc.List(f.ctx, stories.Filter{Tag: "oncology", Stages: []string{"drafting"}})
		if err != nil || len(p.Rows) == 0 {
			b.Fatal(err)
		}
		if _, err := f.svc.List(f.ctx, stories.Filter{Tag: "oncology", Stages: []string{"drafting"}, After: p.Next}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStorySearch(b *testing.B) {
	f := seeded(b)
	b.ResetTimer()
	for b.Loop() {
		p, err := f.svc.List(f.ctx, stories.Filter{Query: "marathon transplant"})
		if err != nil || len(p.Rows) == 0 {
			b.Fatal(err, len(p.Rows))
		}
	}
}

// BenchmarkStoryListByPatient: the list filtered by patient, first page and
// the next (every benchmark story is the fixture patient's).
func BenchmarkStoryListByPatient(b *testing.B) {
	f := seeded(b)
	b.ResetTimer()
	for b.Loop() {
		p, err := f.svc.List(f.ctx, stories.Filter{PatientID: f.patient})
		if err != nil || len(p.Rows) == 0 {
			b.Fatal(err)
		}
		if _, err := f.svc.List(f.ctx, stories.Filter{PatientID: f.patient, After: p.Next}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoryListMinimumNecessary: the lists the web's minimum-necessary
// scoping asks for (issue 20): a storyteller's own and collaborated stories
// (AuthorID), for the author of every seeded story and for one who wrote
// none (the whole index is walked to find nothing: the worst case), and a
// reviewer's stages.
func BenchmarkStoryListMinimumNecessary(b *testing.B) {
	f := seeded(b)
	reviewer := []string{"in_review", "approved", "published", "withdrawn", "archived"}
	for _, c := range []struct {
		name string
		f    stories.Filter
	}{
		{"author-of-all", stories.Filter{AuthorID: f.teller.UserID}},
		{"author-of-none", stories.Filter{AuthorID: f.other.UserID}},
		{"author-of-none-search", stories.Filter{AuthorID: f.other.UserID, Query: "marathon"}},
		{"reviewer-stages", stories.Filter{Stages: reviewer}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := f.svc.List(f.ctx, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
