package consent

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	_ "image/jpeg" // thumbnails may be JPEG
	_ "image/png"  // signatures and thumbnails may be PNG
	"regexp"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// The certificate embeds DejaVu Sans (licence in fonts/) because the core PDF
// fonts cannot show ñ, curly quotes or an em dash reliably, and the text of
// the authorization must appear exactly as the patient read it.
//
//go:embed fonts/DejaVuSans.ttf fonts/DejaVuSans-Bold.ttf
var fontFS embed.FS

// CertificateData is everything the certificate shows. It is the patient's
// copy of the signed authorization (164.508(c)(4)) and the organisation's
// evidence of what was signed, by whom and when.
type CertificateData struct {
	OrganisationName string
	CertificateID    string
	PublicURL        string // base URL, for the verification line
	RevokeURL        string
	GeneratedAt      time.Time

	AuthorizationText  string // the rendered form, Markdown, exactly as shown
	TemplateID         string
	TemplateVersion    int
	TemplateTextSHA256 string
	ContentDigest      string // Digest of the frozen content

	Channels  []string // labels of the channels the patient chose
	Media     []CertificateMedia
	NameUsage string // phrase for the name-usage choice
	ExpiresOn time.Time

	StoryTitle, StorySummary, StoryBody string
	ChannelCopy                         []ChannelCopy

	SignatureImage []byte // PNG
	SignerName     string // as typed by the signer
	Representative *Representative
	Events         []CertificateEvent
}

// CertificateMedia is a chosen media item; Thumbnail (JPEG or PNG) is
// optional and is left out if it cannot be decoded.
type CertificateMedia struct {
	ID, SHA256, AltText string
	Thumbnail           []byte
}

// Representative records who signed for the patient and on what authority,
// as 164.508(c)(1)(vi) requires.
type Representative struct {
	Name, Relationship, Authority string
}

// CertificateEvent is one step of the request's life (sent, opened,
// verified, signed) with where it came from.
type CertificateEvent struct {
	Kind string
	At   time.Time
	IP   string
}

// bodyExcerptRunes bounds the story body printed; the digest covers the whole.
const bodyExcerptRunes = 1500

// RenderCertificate returns the certificate as PDF bytes.
func RenderCertificate(c CertificateData) ([]byte, error) {
	p, err := newCertPDF(c)
	if err != nil {
		return nil, err
	}
	p.header(c)
	p.section("Authorization as shown to the signer")
	p.markdown(c.AuthorizationText)
	p.choices(c)
	p.story(c)
	if err := p.signature(c); err != nil {
		return nil, err
	}
	p.events(c.Events)
	p.evidence(c)
	var buf bytes.Buffer
	if err := p.f.Output(&buf); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return buf.Bytes(), nil
}

type certPDF struct{ f *fpdf.Fpdf }

const lineH = 5.0

func newCertPDF(c CertificateData) (*certPDF, error) {
	f := fpdf.New("P", "mm", "A4", "")
	for _, font := range []struct{ style, file string }{{"", "DejaVuSans.ttf"}, {"B", "DejaVuSans-Bold.ttf"}} {
		b, err := fontFS.ReadFile("fonts/" + font.file)
		if err != nil {
			return nil, err
		}
		f.AddUTF8FontFromBytes("dejavu", font.style, b)
	}
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 18)
	f.SetTitle("Authorization certificate "+c.CertificateID, true)
	f.SetCreator("Storykeep", true)
	f.SetCreationDate(c.GeneratedAt.UTC())
	// Without this fpdf stamps the wall clock, and two renders that straddle
	// a second differ.
	f.SetModificationDate(c.GeneratedAt.UTC())
	f.SetCatalogSort(true)
	f.AliasNbPages("")
	f.SetFooterFunc(func() {
		f.SetY(-13)
		f.SetFont("dejavu", "", 7)
		f.CellFormat(0, 4, fmt.Sprintf("Certificate %s — page %d of {nb}", c.CertificateID, f.PageNo()), "", 0, "C", false, 0, "")
	})
	f.AddPage()
	return &certPDF{f: f}, f.Error()
}

func (p *certPDF) text(size float64, bold bool, s string) {
	style := ""
	if bold {
		style = "B"
	}
	p.f.SetFont("dejavu", style, size)
	p.f.MultiCell(0, size*0.45, s, "", "L", false)
}

func (p *certPDF) section(title string) {
	p.f.Ln(3)
	p.text(12, true, title)
	y := p.f.GetY()
	p.f.Line(15, y, 195, y)
	p.f.Ln(2)
}

func (p *certPDF) field(label, value string) {
	p.f.SetFont("dejavu", "B", 9)
	p.f.CellFormat(45, lineH, label, "", 0, "L", false, 0, "")
	p.f.SetFont("dejavu", "", 9)
	p.f.MultiCell(0, lineH, value, "", "L", false)
}

func (p *certPDF) header(c CertificateData) {
	p.text(16, true, c.OrganisationName)
	p.text(13, true, "Certificate of signed authorization")
	p.f.Ln(1)
	p.field("Certificate id", c.CertificateID)
	p.field("Issued", utc(c.GeneratedAt))
}

// markdown prints the form as plain headings, paragraphs and bullets: the
// words matter here, not the styling.
func (p *certPDF) markdown(src string) {
	var para []string
	flush := func() {
		if len(para) > 0 {
			p.text(9.5, false, plainInline(strings.Join(para, " ")))
			p.f.Ln(1.5)
			para = nil
		}
	}
	for _, line := range strings.Split(canon(src), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "#"):
			flush()
			size := 10.5
			if !strings.HasPrefix(t, "##") {
				size = 12
			}
			p.text(size, true, plainInline(strings.TrimSpace(strings.TrimLeft(t, "#"))))
			p.f.Ln(1)
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flush()
			p.f.SetLeftMargin(20) // wrapped lines of a bullet stay indented
			p.f.SetX(20)
			p.f.SetFont("dejavu", "", 9.5)
			p.f.MultiCell(0, 9.5*0.45, "• "+plainInline(t[2:]), "", "L", false)
			p.f.SetLeftMargin(15)
		default:
			para = append(para, t)
		}
	}
	flush()
}

var (
	inlineMarks = strings.NewReplacer("**", "", "__", "", "`", "")
	mdLink      = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)\)`)
)

// plainInline drops emphasis marks and writes links as "text (url)".
func plainInline(s string) string {
	return mdLink.ReplaceAllString(inlineMarks.Replace(s), "$1 ($2)")
}

func (p *certPDF) choices(c CertificateData) {
	p.section("The signer's choices")
	p.field("Channels", strings.Join(c.Channels, ", "))
	p.field("Name usage", c.NameUsage)
	p.field("Expires on", c.ExpiresOn.UTC().Format("2006-01-02"))
	p.f.Ln(1)
	for _, m := range c.Media {
		p.mediaItem(m)
	}
}

func (p *certPDF) mediaItem(m CertificateMedia) {
	const thumbW, thumbH = 28.0, 21.0
	if p.f.GetY()+thumbH > 270 {
		p.f.AddPage()
	}
	y := p.f.GetY()
	if kind := imageKind(m.Thumbnail); kind != "" {
		name := "thumb-" + m.ID
		p.f.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: kind}, bytes.NewReader(m.Thumbnail))
		p.f.ImageOptions(name, 15, y, 0, thumbH, false, fpdf.ImageOptions{ImageType: kind}, 0, "")
	} else {
		p.f.SetFont("dejavu", "", 7)
		p.f.Rect(15, y, thumbW, thumbH, "D")
		p.f.SetXY(15, y+8)
		p.f.CellFormat(thumbW, 4, "no preview", "", 0, "C", false, 0, "")
	}
	p.f.SetXY(15+thumbW+4, y)
	p.f.SetFont("dejavu", "", 9)
	p.f.MultiCell(0, lineH, m.AltText+"\nMedia "+m.ID+"\nSHA-256 "+m.SHA256, "", "L", false)
	p.f.SetY(max(p.f.GetY(), y+thumbH) + 2)
}

// imageKind returns the fpdf type of a decodable JPEG or PNG, or "".
func imageKind(b []byte) string {
	if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err == nil {
		switch format {
		case "jpeg":
			return "JPG"
		case "png":
			return "PNG"
		}
	}
	return ""
}

func (p *certPDF) story(c CertificateData) {
	p.section("Story as signed")
	p.field("Title", c.StoryTitle)
	p.field("Summary", c.StorySummary)
	body := []rune(canon(c.StoryBody))
	excerpt := string(body)
	if len(body) > bodyExcerptRunes {
		excerpt = string(body[:bodyExcerptRunes]) + " […] (excerpt; the content digest covers the full text)"
	}
	p.field("Body", excerpt)
	for _, cc := range c.ChannelCopy {
		if strings.TrimSpace(cc.Text) != "" {
			p.field("Post: "+cc.Channel, cc.Text)
		}
	}
}

func (p *certPDF) signature(c CertificateData) error {
	if imageKind(c.SignatureImage) != "PNG" {
		return fmt.Errorf("certificate: the signature image is not a PNG")
	}
	if p.f.GetY()+55 > 270 { // keep the heading, the image and the signer together
		p.f.AddPage()
	}
	p.section("Signature")
	p.f.RegisterImageOptionsReader("signature", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(c.SignatureImage))
	p.f.ImageOptions("signature", 15, p.f.GetY(), 70, 0, true, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	p.field("Signed by (typed)", c.SignerName)
	if r := c.Representative; r != nil {
		p.field("Representative", r.Name)
		p.field("Relationship", r.Relationship)
		p.field("Authority", r.Authority)
	}
	return p.f.Error()
}

func (p *certPDF) events(events []CertificateEvent) {
	p.section("Event trail (UTC)")
	for _, e := range events {
		p.f.SetFont("dejavu", "", 9)
		p.f.CellFormat(30, lineH, e.Kind, "", 0, "L", false, 0, "")
		p.f.CellFormat(50, lineH, utc(e.At), "", 0, "L", false, 0, "")
		p.f.CellFormat(0, lineH, "IP "+e.IP, "", 1, "L", false, 0, "")
	}
}

func (p *certPDF) evidence(c CertificateData) {
	p.section("Evidence")
	p.field("Content digest", c.ContentDigest)
	p.field("Form template", fmt.Sprintf("%s, version %d", c.TemplateID, c.TemplateVersion))
	p.field("Form text SHA-256", c.TemplateTextSHA256)
	p.f.Ln(2)
	p.text(9, false, fmt.Sprintf("Verify at %s/verify/%s — digest %s", strings.TrimRight(c.PublicURL, "/"), c.CertificateID, c.ContentDigest))
	p.f.Ln(1)
	p.text(9, false, "To revoke this authorization at any time, in writing: "+c.RevokeURL)
}

func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
