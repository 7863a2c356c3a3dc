package audit_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/pdfseal"
)

// TestExportSignedAndVerifiable: the export is JSON Lines with a last line
// signing every byte before it; it verifies with the seal certificate, in
// Go and with openssl as docs/audit.md shows a SIEM's operator, and fails
// once any line is altered.
func TestExportSignedAndVerifiable(t *testing.T) {
	f := newAnchorFixture(t)
	ctx := context.Background()
	record(t, f.log, 5)
	if err := f.log.Record(ctx, nil, audit.Entry{Action: "not.yet.linked", ObjectType: "x"}); err != nil {
		t.Fatal(err)
	}
	key, cert, err := pdfseal.LoadOrCreate(filepath.Dir(f.dir), "unused") // a fresh key: the fixture's is in its own dir
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := f.log.Export(ctx, &buf, time.Now().Add(-time.Hour), key, cert)
	if err != nil || n != 5 {
		t.Fatalf("exported %d: %v", n, err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[5], `{"signature":`) {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
	var first audit.ExportLine
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Seq != 1 || first.Hash == "" || first.Action != "user.create" {
		t.Fatalf("first line %q: %v", lines[0], err)
	}
	if got, err := audit.VerifyExport(bytes.NewReader(buf.Bytes()), cert); err != nil || got != 5 {
		t.Fatalf("verify: %d %v", got, err)
	}
	if _, err := audit.VerifyExport(bytes.NewReader(buf.Bytes()), f.cert); err == nil {
		t.Fatal("verified with another organisation's certificate")
	}
	altered := bytes.Replace(buf.Bytes(), []byte(`"object_id":"3"`), []byte(`"object_id":"4"`), 1)
	if bytes.Equal(altered, buf.Bytes()) {
		t.Fatal("nothing altered")
	}
	if _, err := audit.VerifyExport(bytes.NewReader(altered), cert); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("altered line: %v", err)
	}
	if _, err := audit.VerifyExport(strings.NewReader(strings.Join(lines[:5], "\n")+"\n"), cert); err == nil {
		t.Fatal("an export without its signature line verified")
	}

	// As docs/audit.md tells a SIEM operator: the signed bytes are every
	// line but the last; the signature is DER, checked with the public key
	// of the seal certificate.
	dir := t.TempDir()
	body := []byte(strings.Join(lines[:5], "\n") + "\n")
	var sig audit.ExportSignature
	if err := json.Unmarshal([]byte(lines[5]), &sig); err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(sig.Signature.Sig)
	pub, _ := x509.MarshalPKIXPublicKey(cert.PublicKey)
	for name, b := range map[string][]byte{"body.jsonl": body, "sig.der": der, "seal.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", filepath.Join(dir, "seal.pub"), "-signature", filepath.Join(dir, "sig.der"), filepath.Join(dir, "body.jsonl")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "body.jsonl"), altered[:len(body)], 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", filepath.Join(dir, "seal.pub"), "-signature", filepath.Join(dir, "sig.der"), filepath.Join(dir, "body.jsonl")).CombinedOutput(); err == nil {
		t.Fatalf("openssl verified an altered export: %s", out)
	}
}
