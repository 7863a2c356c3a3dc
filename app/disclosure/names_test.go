package disclosure

import (
	"strings"
	"testing"
)

// hostile are spellings of "Maria Lopez" (and parts) a reader still reads
// as the name.
var hostile = []string{
	"Maria Lopez walked again.",
	"M&#97;ria L&#111;pez thanks the team.",
	"M&amp;#97;ria L&amp;#111;pez",
	"She says: **Ma**ria is back!",
	"Lo\u00adpez family too.",
	"Ma\u200bria and Lo\u200dpez",
	"MARÍA LÓPEZ",
	"Lopez's daughter and johns-recovery",
	"Mrs López-Ruiz came.",
	"Ｍａｒｉａ ｌｏｐｅｚ",
	"Mari\u0301a Lope\u0301z",
	"Elena\u00a0Lopez",
	"Ruiz’s smile",
}

func TestNamesHostileSpellings(t *testing.T) {
	for _, usage := range []string{NameFirst, NameAnonymous} {
		n := NewNames("Maria Elena López-Ruiz", "Mari", usage)
		for _, in := range hostile {
			in = strings.ReplaceAll(in, "john", "lopez")
			for _, got := range []string{n.Text(in), string(n.Markdown(in))} {
				if leak := n.Leak(got); leak != "" {
					t.Errorf("%s: %q -> %q still has %q", usage, in, got, leak)
				}
			}
			if usage == NameAnonymous && n.Leak(in) == "" {
				t.Errorf("%s: Leak misses %q", usage, in)
			}
		}
	}
}

func TestNamesRewrite(t *testing.T) {
	const name = "María Elena López-Ruiz"
	for _, tc := range []struct{ usage, in, want string }{
		{NameFull, "María López-Ruiz smiled.", "María López-Ruiz smiled."},
		{NameFirst, "Maria Lopez-Ruiz smiled. Ms. Lopez thanked Dr Ruiz.", "María smiled. María thanked María."},
		{NameFirst, "María Elena López-Ruiz and Elena", "María and María"},
		{NameFirst, "Lopezville and RUIZ's dog", "Lopezville and María's dog"},
		{NameAnonymous, "María López thanks her team, said Mari.", "The patient thanks her team, said the patient."},
		{NameAnonymous, "Today Elena López walked.\nMaría too.", "Today the patient walked.\nThe patient too."},
		{NameAnonymous, "M&#97;ria L&#111;pez thanks", "The patient thanks"},
	} {
		if got := NewNames(name, "Mari", tc.usage).Text(tc.in); got != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.usage, tc.in, got, tc.want)
		}
	}
	n := NewNames(name, "", NameAnonymous)
	if got := string(n.Markdown("She says: \"**Ma**ria is back!\" and Lo&shy;pez family.")); strings.Contains(got, "ria") || !strings.Contains(got, "the patient") {
		t.Errorf("markdown: %s", got)
	}
}

func TestF18PublicSlugPossessive(t *testing.T) {
	for in, want := range map[string]string{"maria-lopez-walks-again": "walks-again", "maria-lopez": "story", "a-new-hip": "a-new-hip",
		"lopez-ruiz-runs": "runs", "marias-recovery": "recovery", "lopezs-day": "day"} {
		if got := PublicSlug(in, "María López-Ruiz", "Mari"); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	if got := PublicSlug("johns-recovery", "John Smith", ""); got != "recovery" {
		t.Errorf("johns-recovery: got %s", got)
	}
}
