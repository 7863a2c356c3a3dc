package consent

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/storykeep/storykeep/models"
)

func testImage(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), 120, 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleCertificate(t *testing.T) CertificateData {
	tpl := &models.ConsentTemplate{ID: "tpl-es-1", Language: "es", Version: 1, Body: defaultBody(t, "es")}
	text, _, err := Render(tpl, FormData{
		OrganisationName: "Hospital Señora de la Peña", PatientName: "José Núñez Güemes", StoryTitle: "Mi recuperación",
		Channels: List{"Sitio web", "Facebook"}, MediaList: List{"Foto: José en el jardín"}, NameUsage: NameUsageText("es", "first_name"),
		ExpiresOn: FormatDate("es", time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)), RevokeURL: "https://historias.example.org/revocar/tok",
		Representative: "Ana López (madre; madre de un menor)",
	})
	if err != nil {
		t.Fatal(err)
	}
	frozen := goldenFrozen()
	_, digest := Digest(frozen)
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	return CertificateData{
		Language: "es", OrganisationName: "Hospital Señora de la Peña", CertificateID: "0190a5c4-aaaa-7bbb-8ccc-000000000042",
		StoryID: "0190a5c4-bbbb-7bbb-8ccc-000000000007", PublicURL: "https://historias.example.org/",
		GeneratedAt: at.Add(time.Minute), AuthorizationText: text,
		TemplateID: tpl.ID, TemplateVersion: 1, TemplateTextSHA256: TextSHA256(tpl.Body), ContentDigest: digest,
		Channels: []string{"Sitio web", "Facebook"}, NameUsage: NameUsageText("es", "first_name"),
		ExpiresOn: time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC),
		Media: []CertificateMedia{
			{ID: "m1", SHA256: strings.Repeat("a", 64), AltText: "José en el jardín", Thumbnail: testImage(t, "jpeg", 80, 60)},
			{ID: "m2", SHA256: strings.Repeat("b", 64), AltText: "Fisioterapia — “paso a paso”", Thumbnail: testImage(t, "png", 60, 80)},
			{ID: "m3", SHA256: strings.Repeat("c", 64), AltText: "Audio de la entrevista", Thumbnail: []byte("not an image")},
		},
		StoryTitle: "Mi recuperación", StorySummary: "Después de la cirugía, José volvió a caminar.",
		StoryBody:      strings.Repeat("José caminó otra vez con la ayuda del equipo de fisioterapia. ", 40),
		ChannelCopy:    []ChannelCopy{{Channel: "facebook", Text: "¡José camina otra vez! Pingüino y señal — “gracias”."}, {Channel: "website"}},
		SignatureImage: testImage(t, "png", 300, 90), SignerName: "Ana López Núñez",
		Representative: &Representative{Name: "Ana López Núñez", Relationship: "madre", Authority: "madre de un menor de edad"},
		Events: []CertificateEvent{
			{Kind: "sent", At: at.Add(-48 * time.Hour), IP: "10.0.0.5"},
			{Kind: "opened", At: at.Add(-2 * time.Hour), IP: "203.0.113.7"},
			{Kind: "verified", At: at.Add(-time.Hour), IP: "203.0.113.7"},
			{Kind: "signed", At: at, IP: "2001:db8::1"},
		},
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("pdftotext (poppler-utils) is required in CI")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "cert.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestRenderCertificate(t *testing.T) {
	c := sampleCertificate(t)
	pdf, err := RenderCertificate(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	text := pdfText(t, pdf)
	for _, want := range []string{
		"Hospital Señora de la Peña", "José Núñez Güemes", "Qué se compartirá", "«Mi recuperación»",
		"¡José camina otra vez! Pingüino y señal — “gracias”.", "Fisioterapia — “paso a paso”",
		"31 de diciembre de 2027", "solo su nombre de pila", "Ana López Núñez", "madre de un menor de edad",
		"Certificado 0190a5c4-aaaa-7bbb-8ccc-000000000042", "Certificado de autorización firmada",
		"Id de la historia", "0190a5c4-bbbb-7bbb-8ccc-000000000007", "enviado", "firmado",
		c.ContentDigest, c.TemplateTextSHA256,
		"Verifíquelo en https://historias.example.org/verify/0190a5c4-aaaa-7bbb-8ccc-000000000042",
		"2026-03-12 09:26:53 UTC", "2026-03-14 07:26:53 UTC", "2026-03-14 08:26:53 UTC", "2026-03-14 09:26:53 UTC",
		"IP 2001:db8::1", "IP 10.0.0.5", "sin vista previa",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate text lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("extracted text: %s", text)
	}
}

func TestRenderCertificateIsDeterministic(t *testing.T) {
	a, err1 := RenderCertificate(sampleCertificate(t))
	b, err2 := RenderCertificate(sampleCertificate(t))
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Errorf("two renders of the same data differ (errors %v, %v)", err1, err2)
	}
}

func TestRenderCertificateNeedsSignature(t *testing.T) {
	c := sampleCertificate(t)
	c.SignatureImage = testImage(t, "jpeg", 10, 10)
	if _, err := RenderCertificate(c); err == nil {
		t.Error("rendered without a PNG signature")
	}
}

// TestCertificateEmojiSpanishArabic is the regression test for the bug
// found against a real Bluesky server: an emoji in channel copy killed the
// certificate job ("character outside the supported range"). Any text
// renders; the full body is printed (no 1,500-character cut); a character
// no embedded font has becomes a marked placeholder.
func TestCertificateEmojiSpanishArabic(t *testing.T) {
	c := sampleCertificate(t)
	arabic := "شكراً لفريق العلاج الطبيعي"
	hebrew := "תודה רבה"
	c.ChannelCopy = []ChannelCopy{{Channel: "bluesky", Text: "¡José camina otra vez! 🎉😀🙏 Gracias al equipo ❤️ " + arabic}}
	c.StorySummary = "Resumen con hebreo: " + hebrew + " y un carácter sin fuente: \U0001F979 y 中"
	body := strings.Repeat("José caminó otra vez con la ayuda del equipo de fisioterapia. ", 40) + "FIN-DEL-TEXTO-COMPLETO"
	c.StoryBody = body
	pdf, err := RenderCertificate(c)
	if err != nil {
		t.Fatalf("certificate with emoji, Spanish and Arabic: %v", err)
	}
	text := norm.NFKC.String(pdfText(t, pdf))
	for _, want := range []string{
		"¡José camina otra vez!", "🎉😀🙏", "Gracias al equipo ❤", "[U+1F979]", "[U+4E2D]",
		norm.NFKC.String(arabic), hebrew, "FIN-DEL-TEXTO-COMPLETO",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate text lacks %q", want)
		}
	}
	if strings.Count(text, "José caminó otra vez con la ayuda") != 40 {
		t.Errorf("the body is not printed in full: %d repetitions", strings.Count(text, "José caminó otra vez con la ayuda"))
	}
	if t.Failed() {
		t.Logf("extracted text: %s", text)
	}
}

// TestCertificateNeverFailsOnText: whatever staff or patients type, the
// certificate renders (characters no font has become placeholders).
func TestCertificateNeverFailsOnText(t *testing.T) {
	var b strings.Builder
	for r := rune(1); r < 0x30000; r += 89 {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		b.WriteRune(r)
		if r%7 == 0 {
			b.WriteByte(' ')
		}
	}
	b.WriteString("\u200d\ufe0f\u202e\x00\x07 👩‍👩‍👧 👍🏽 " + string([]byte{0xff, 0xfe}))
	c := sampleCertificate(t)
	c.StoryBody, c.ChannelCopy[0].Text, c.SignerName = b.String(), b.String(), b.String()
	if _, err := RenderCertificate(c); err != nil {
		t.Fatalf("certificate failed on unusual text: %v", err)
	}
}
