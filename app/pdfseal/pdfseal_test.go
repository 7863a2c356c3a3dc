package pdfseal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadOrCreateKeepsOneKey: the seal key is made once, kept private, and
// read back unchanged, like the data key.
func TestLoadOrCreateKeepsOneKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	_, c1, err := LoadOrCreate(dir, "Mercy General")
	if err != nil {
		t.Fatal(err)
	}
	_, c2, err := LoadOrCreate(dir, "Mercy General")
	if err != nil {
		t.Fatal(err)
	}
	if !c1.Equal(c2) || c1.Subject.CommonName != "Mercy General document seal" {
		t.Fatalf("a second start made another key: %v / %v", c1.Subject, c2.Subject)
	}
	if st, err := os.Stat(filepath.Join(dir, "seal.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("seal.key: %v %v", st.Mode(), err)
	}
}

func TestVerifyUnsealed(t *testing.T) {
	if _, err := Verify([]byte("%PDF-1.7\n%%EOF\n"), nil); !ErrNoSeal(err) {
		t.Fatalf("unsealed PDF: %v", err)
	}
}
