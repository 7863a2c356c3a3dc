package crypto

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func key(b byte) string {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = b
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func TestSealOpenAndRotate(t *testing.T) {
	old, err := ParseKeys("k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal("1980-02-03", "patient:p1:dob")
	if err != nil || strings.Contains(sealed, "1980") || !strings.HasPrefix(sealed, "k1.") {
		t.Fatalf("sealed=%q err=%v", sealed, err)
	}
	rotated, _ := ParseKeys("k2:" + key(2) + ",k1:" + key(1))
	if got, err := rotated.Open(sealed, "patient:p1:dob"); err != nil || got != "1980-02-03" {
		t.Fatalf("old value with rotated ring: %q %v", got, err)
	}
	if !rotated.NeedsRotation(sealed) {
		t.Fatal("value sealed with k1 should need rotation to k2")
	}
	if _, err := rotated.Open(sealed, "patient:p2:dob"); !errors.Is(err, ErrUndecryptable) {
		t.Fatal("value moved to another row must not open")
	}
	onlyNew, _ := ParseKeys("k2:" + key(2))
	if _, err := onlyNew.Open(sealed, "patient:p1:dob"); !errors.Is(err, ErrUndecryptable) || !strings.Contains(err.Error(), "k1") {
		t.Fatalf("missing key should be named: %v", err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, spec := range []string{"", "nokey", "k1:short", "k1:" + key(1) + ",k1:" + key(2), "a.b:" + key(1)} {
		if _, err := ParseKeys(spec); err == nil {
			t.Errorf("%q: want error", spec)
		}
	}
}

func TestLoadOrCreatePersistsOneKey(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate("", dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := a.Seal("x", "")
	b, err := LoadOrCreate("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(s, ""); err != nil || got != "x" {
		t.Fatal("second load must reuse the generated key")
	}
	st, _ := os.Stat(filepath.Join(dir, "data.key"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
}
