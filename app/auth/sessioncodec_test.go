package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestSessionCodec: strings and int64s round-trip with the deadline, gob
// sessions saved before the switch still decode, and a value of another
// type is refused by name.
func TestSessionCodec(t *testing.T) {
	deadline := time.Date(2026, 11, 23, 10, 0, 0, 123, time.UTC)
	values := map[string]any{UserKey: "u-1", "flash": "Saved \"draft\" <ok>", "verified:r1": int64(1795000000), "empty": ""}
	b, err := SessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	old, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"json": b, "gob": old} {
		d, got, err := SessionCodec{}.Decode(data)
		if err != nil || !d.Equal(deadline) || len(got) != len(values) {
			t.Fatalf("%s: %v %v %v", name, d, got, err)
		}
		for k, v := range values {
			if got[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", name, k, got[k], v)
			}
		}
	}
	if userOf(b) != "u-1" || userOf(old) != "u-1" || userOf([]byte("junk")) != "" {
		t.Fatal("userOf does not read the user id")
	}
	if _, err := (SessionCodec{}).Encode(deadline, map[string]any{"when": time.Now()}); err == nil || !strings.Contains(err.Error(), `"when"`) {
		t.Fatalf("a time.Time value: %v", err)
	}
}

func BenchmarkSessionDecode(b *testing.B) {
	values := map[string]any{UserKey: "01a20a79-014c-7566-bfd3-7998bc0d1cb9", "flash": "Saved."}
	for _, c := range []struct {
		name  string
		codec scs.Codec
	}{{"json", SessionCodec{}}, {"gob", scs.GobCodec{}}} {
		data, _ := c.codec.Encode(time.Now(), values)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := c.codec.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
