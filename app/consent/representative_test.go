package consent

import (
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/models"
)

func TestAgeOn(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	for _, c := range []struct {
		dob, on string
		want    int
	}{
		{"2010-06-15", "2026-06-14", 15}, {"2010-06-15", "2026-06-15", 16}, {"2008-02-29", "2026-02-28", 17}, {"2008-02-29", "2026-03-01", 18},
	} {
		if got, ok := AgeOn(c.dob, day(c.on)); !ok || got != c.want {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", c.dob, c.on, got, c.want)
		}
	}
	if _, ok := AgeOn("", time.Now()); ok {
		t.Error("an empty date of birth has an age")
	}
}

// TestRemunerationElementWhenSponsored: the filled-in form must state who
// pays only for a sponsored request; a form without the section still
// serves unpaid requests, and activation always needs it.
func TestRemunerationElementWhenSponsored(t *testing.T) {
	body, err := DefaultBody("en")
	if err != nil {
		t.Fatal(err)
	}
	start, end := strings.Index(body, "## Whether anyone is paid"), strings.Index(body, "## When this authorization ends")
	old := &models.ConsentTemplate{Language: "en", Version: 1, Body: body[:start] + body[end:]}
	cur := &models.ConsentTemplate{Language: "en", Version: 2, Body: body}
	data := sampleData(false)
	data.Sponsored, data.Remuneration = false, RemunerationText("en", "Org", false, "")
	if _, err := renderChecked(old, data); err != nil {
		t.Fatalf("an unpaid request on a form without the section: %v", err)
	}
	data.Sponsored, data.Remuneration = true, RemunerationText("en", "Org", true, "Acme Pharma")
	if _, err := renderChecked(old, data); err == nil || !strings.Contains(err.Error(), "Marketing and payment") {
		t.Fatalf("a sponsored request on a form without the section: %v", err)
	}
	text, err := renderChecked(cur, data)
	if err != nil || !strings.Contains(text, "Org is paid by Acme Pharma") {
		t.Fatalf("sponsored form: %v\n%s", err, text)
	}
	if m := Readiness(old); len(m) != 1 || m[0].Element != "Marketing and payment" {
		t.Fatalf("activating a form without the section: %+v", m)
	}
}
