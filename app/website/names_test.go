package website

import "testing"

func TestRedactor(t *testing.T) {
	const name = "María Elena López-Ruiz"
	for _, tc := range []struct{ usage, in, want string }{
		{NameFull, "María López-Ruiz smiled.", "María López-Ruiz smiled."},
		{NameFirst, "Maria Lopez-Ruiz smiled. Ms. Lopez thanked Dr Ruiz.", "María smiled. María thanked María."},
		{NameFirst, "María Elena López-Ruiz and Elena", "María and María"},
		{NameFirst, "Lopezville and RUIZ's dog", "Lopezville and María's dog"},
		{NameAnonymous, "María López thanks her team, said Mari.", "The patient thanks her team, said the patient."},
		{NameAnonymous, "Today Elena López walked.\nMaría too.", "Today the patient walked.\nThe patient too."},
	} {
		if got := newRedactor(name, "Mari", tc.usage).Text(tc.in); got != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.usage, tc.in, got, tc.want)
		}
	}
}

func TestPublicSlug(t *testing.T) {
	for in, want := range map[string]string{"maria-lopez-walks-again": "walks-again", "maria-lopez": "story", "a-new-hip": "a-new-hip", "lopez-ruiz-runs": "runs"} {
		if got := publicSlug(in, "María López-Ruiz", "Mari"); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}
