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
