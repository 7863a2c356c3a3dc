package consent

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/pdfseal"
	"github.com/storykeep/storykeep/app/pdfseal/tsatest"
)

func testSealer(t *testing.T, tsaURL string) *pdfseal.Sealer {
	t.Helper()
	key, cert, err := pdfseal.LoadOrCreate(t.TempDir(), "Hospital Señora de la Peña")
	if err != nil {
		t.Fatal(err)
	}
	return &pdfseal.Sealer{Key: key, Cert: cert, TSAURL: tsaURL, Name: "Hospital"}
}

// TestCertificateSealPdfsig seals a certificate (emoji, Spanish and Arabic
// text) with a PAdES signature and a timestamp from a real RFC 3161
// timestamp authority, and has poppler's pdfsig check it independently.
func TestCertificateSealPdfsig(t *testing.T) {
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Fatal("pdfsig (poppler-utils) is required")
	}
	sealer := testSealer(t, tsatest.Start(t))
	c := sampleCertificate(t)
	c.ChannelCopy = []ChannelCopy{{Channel: "bluesky", Text: "¡Gracias! 🎉 شكراً"}}
	c.Attachments = []Attachment{{Name: "frozen-content.json", MIME: "application/json", Data: []byte(`{"a":1}`)}}
	pdf, err := RenderCertificate(c)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sealer.Seal(pdf, c.GeneratedAt)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sealed.pdf")
	if err := os.WriteFile(path, sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("pdfsig", path).CombinedOutput()
	t.Logf("pdfsig:\n%s", out)
	for _, want := range []string{"Signature #1", "ETSI.CAdES.detached", "Signature Validation: Signature is Valid.", "Total document signed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, out)
		}
	}
	res, err := pdfseal.Verify(sealed, sealer.Cert)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !res.Timestamped || time.Since(res.SignedAt) > time.Minute {
		t.Errorf("timestamp: %v at %v", res.Timestamped, res.SignedAt)
	}
	// pdfsig prints the signing time; it must agree with the authority's.
	m := regexp.MustCompile(`Signing Time: (\w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2})`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("pdfsig shows no signing time:\n%s", out)
	}
	if at, err := time.ParseInLocation("Jan 02 2006 15:04:05", m[1], time.Local); err != nil || at.Sub(res.SignedAt).Abs() > 2*time.Minute {
		t.Errorf("pdfsig signing time %s, timestamp authority %v (%v)", m[1], res.SignedAt, err)
	}
	if !strings.Contains(pdfText(t, sealed), "🎉") {
		t.Error("sealed certificate lost its text")
	}
	// Any changed byte breaks the seal: in the content, in the signature
	// value, in the appended update.
	for _, at := range []int{10, len(pdf) / 2, len(pdf) + 200, len(sealed) - 40, len(sealed) - 5} {
		bad := append([]byte{}, sealed...)
		bad[at] ^= 0x01
		if _, err := pdfseal.Verify(bad, sealer.Cert); err == nil {
			t.Errorf("a changed byte at %d of %d still verifies", at, len(sealed))
		}
	}
	other := testSealer(t, "")
	if _, err := pdfseal.Verify(sealed, other.Cert); err == nil {
		t.Error("verified against another organisation's key")
	}
	if err := os.WriteFile(path, append(sealed[:len(sealed)-200:len(sealed)-200], []byte(strings.Repeat(" ", 200))...), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("pdfsig", path).CombinedOutput(); strings.Contains(string(out), "Signature is Valid") && strings.Contains(string(out), "Total document signed") {
		t.Errorf("pdfsig accepts a changed file:\n%s", out)
	}
}
