package phi

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzScan checks that no input makes Scan panic or return offsets a
// caller could not slice with, and that the windowing optimisation never
// changes a result.
func FuzzScan(f *testing.F) {
	for _, c := range corpus {
		f.Add(c.text, "Maria Lopez")
	}
	f.Add("José García nació el 3 de marzo de 2020", "José García")
	f.Add("\xff\xfe Dr. \xc3 123 Main St. +44 20 7946 0958 ::", "\xc3")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, text, patient string) {
		got := Scan(text, Options{PatientNames: []string{patient}, AllowNames: []string{"Mercy"}})
		prevEnd := 0
		for i, fd := range got {
			if fd.Start < prevEnd || fd.Start >= fd.End || fd.End > len(text) {
				t.Fatalf("finding %d [%d,%d) invalid after end %d in %d bytes", i, fd.Start, fd.End, prevEnd, len(text))
			}
			if text[fd.Start:fd.End] != fd.Text {
				t.Fatalf("finding %d: Text %q != slice %q", i, fd.Text, text[fd.Start:fd.End])
			}
			if utf8.ValidString(text) && !utf8.ValidString(fd.Text) {
				t.Fatalf("finding %d splits a rune: %q", i, fd.Text)
			}
			prevEnd = fd.End
		}
		if !hasLongToken(text, maxWiden/2) {
			sameAsWhole(t, text, Options{PatientNames: []string{patient}})
		}
	})
}

// sameAsWhole fails if scanning only the windows around digits and keywords
// finds anything different from running every pattern over the whole text.
func sameAsWhole(t *testing.T, text string, opts Options) {
	t.Helper()
	fast, slow := scan(text, opts, false), scan(text, opts, true)
	if !slices.Equal(fast, slow) {
		t.Fatalf("windowed scan differs from whole-text scan for %q\nwindowed: %v\nwhole:    %v", text, fast, slow)
	}
}

// hasLongToken reports a run of n bytes without white space, where windows
// stop widening and may legitimately cut a match.
func hasLongToken(text string, n int) bool {
	run := 0
	for i := 0; i < len(text); i++ {
		if isSpace(text[i]) {
			run = 0
		} else if run++; run >= n {
			return true
		}
	}
	return false
}

func TestWindowsChangeNothing(t *testing.T) {
	for _, c := range corpus {
		sameAsWhole(t, c.text, Options{})
	}
	sameAsWhole(t, story, Options{PatientNames: []string{"Ellie Park"}})
}

// story is about 5 KB of patient-story prose with identifiers sprinkled in
// at roughly the density editors see in practice.
var story = func() string {
	paragraphs := []string{
		"When our daughter Ellie Park was born at 28 weeks on March 3, 2021, my husband, Carlos, and I had no idea what the next months would bring. The Neonatal Intensive Care Unit at Mercy Hospital became our second home, and the nurses became family.",
		"Dr. Alan Grant met us in the hallway that first night. He explained every tube and every alarm, and he gave us his cell, (555) 123-4567, in case we needed to talk. Nurse Keisha Brown taught me how to hold Ellie without disturbing her lines.",
		"Insurance was its own battle. Our member ID ABC123456 was wrong on the first claim, and the bill for account #998877 arrived the same week as her first surgery. Please fax the forms to 555-987-6543, the billing office told us, again and again.",
		"My mother, who is 92 years old, drove from 45 W. Oak Ave, Springfield, IL 62704 every Sunday to read to her. Ellie's great-grandfather turned 101 that spring and sent a card from his home in the Texas hill country.",
		"By the summer of 2021 she was breathing on her own. We celebrated with the whole unit, and the Child Life team painted her footprints on a poster that still hangs by the elevators on the fourth floor.",
		"Today Ellie is three. She loves the playground, her grandmother's garden and the songs the volunteers taught her. We share her story at www.ellieslight.com and answer every note sent to carlos.park@example.org, because another family is sitting where we sat.",
		"If you are in that waiting room now: ask every question, write everything down, and let people help. The Emergency Department at Mercy Hospital was calm the night we came back for a fever, and that calm was a gift.",
	}
	var b strings.Builder
	for b.Len() < 5*1024 {
		for _, p := range paragraphs {
			b.WriteString(p)
			b.WriteString("\n\n")
		}
	}
	return b.String()[:5*1024]
}()

// BenchmarkScan measures a typical story so that a slow pattern shows up
// before editors notice it on save.
func BenchmarkScan(b *testing.B) {
	opts := Options{PatientNames: []string{"Ellie Park"}, AllowNames: []string{"Alan Grant"}}
	b.SetBytes(int64(len(story)))
	b.ReportAllocs()
	for b.Loop() {
		Scan(story, opts)
	}
}
