package stories

import (
	"testing"
	"time"
)

// TestParseStoredTime: the fast reader gives the same instant as
// time.Parse for every fraction length and offset the driver writes, and
// falls back to the driver's other layouts.
func TestParseStoredTime(t *testing.T) {
	const layout = "2006-01-02 15:04:05.999999999-07:00"
	base := time.Date(2026, 2, 28, 23, 59, 58, 0, time.UTC)
	for _, ns := range []int{0, 100000000, 120000000, 123456000, 123456789, 5} {
		for _, zone := range []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -8*3600)} {
			want := base.Add(time.Duration(ns)).In(zone)
			v := want.Format(layout)
			got, err := parseStoredTime(v)
			if err != nil || !got.Equal(want) || got.Format(layout) != v {
				t.Errorf("%q: got %v (%v), want %v", v, got, err, want)
			}
			if _, ok := parseStoredTimeFast(v); !ok {
				t.Errorf("%q took the slow path", v)
			}
		}
	}
	for v, want := range map[string]time.Time{
		"2026-11-23 10:11:12":      time.Date(2026, 11, 23, 10, 11, 12, 0, time.UTC),
		"2026-11-23T10:11:12.5Z":   time.Date(2026, 11, 23, 10, 11, 12, 500000000, time.UTC),
		"2026-11-23":               time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		"2026-11-23 10:11:12+0100": {},
	} {
		got, err := parseStoredTime(v)
		if want.IsZero() {
			if err == nil {
				t.Errorf("%q: accepted as %v", v, got)
			}
			continue
		}
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: got %v %v, want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"2026-13-01 00:00:00+00:00", "2026-1x-01 00:00:00.1+00:00", "2026-01-01 00:00:00.+00:00"} {
		if _, ok := parseStoredTimeFast(v); ok {
			t.Errorf("%q: the fast reader accepted it", v)
		}
	}
}
