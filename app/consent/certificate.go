package consent

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // thumbnails may be JPEG
	_ "image/png"  // signatures and thumbnails may be PNG
	"regexp"
	"strings"
	"time"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/sfnt"

	"github.com/storykeep/storykeep/app/organisation"
)

// CertificateData is everything the certificate shows. It is the patient's
// copy of the signed authorization (164.508(c)(4)) and the organisation's
// evidence of what was signed, by whom and when. It never carries the
// revocation link: that credential goes only in the email to the signer
// (finding F5), so the stored copy is safe to hand to staff.
type CertificateData struct {
	Language         string // "es" prints the frame in Spanish; anything else English
	OrganisationName string
	CertificateID    string // the consent record's id
	StoryID          string
	PublicURL        string // base URL, for the verification line
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

	SignatureImage []byte // PNG; required unless StaffCopy
	SignerName     string // as typed by the signer
	Representative *Representative
	Events         []CertificateEvent
	// Sponsor names who pays for the disclosure, when the request was
	// flagged as sponsored (164.508(a)(3)/(a)(4)).
	Sponsor string

	// Evidence of who signed (UETA attribution).
	UserAgent    string
	VerifyMethod string // dob or email_code
	FailedTries  int    // failed identity checks before success
	EsignAgreed  bool
	// The e-sign agreement: the disclosure's version, language, SHA-256 and
	// exact text as shown (empty for records signed before they were kept).
	EsignVersion, EsignLanguage, EsignSHA256, EsignText string

	// Org is the organisation's contact details, printed under its name;
	// its time zone gives the local times printed next to UTC.
	Org organisation.Profile

	// Paper, when set, says the authorization was signed on paper: the
	// scan's hash stands where the signature image would (certpaper.go).
	Paper *PaperEvidence

	// StaffCopy leaves out the signature image (the export bundle's
	// evidence copy) and says so on the page.
	StaffCopy bool

	// Attachments travel inside the PDF as embedded files (PDF/A-3 style
	// associated files), so the digests can be recomputed from the PDF alone.
	Attachments []Attachment
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
	// Statement is the attestation of authority as shown and agreed to;
	// DocumentSHA256 the hash of a document attached to show it (issue 19).
	Statement, DocumentSHA256 string
	// Assent is the minor's typed name when they assented.
	Assent string
}

// CertificateEvent is one step of the request's life (sent, opened,
// verified, signed) with where it came from.
type CertificateEvent struct {
	Kind string
	At   time.Time
	IP   string
}

// RenderCertificate returns the certificate as PDF bytes (not yet sealed).
func RenderCertificate(c CertificateData) ([]byte, error) {
	fonts, err := loadFonts()
	if err != nil {
		return nil, err
	}
	p := &certPDF{gp: &gopdf.GoPdf{}, fonts: fonts, lang: c.Language, left: 15, right: 195, loc: c.Org.Location()}
	p.gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitMM})
	p.gp.SetInfo(gopdf.PdfInfo{Title: p.t("title") + " " + c.CertificateID, Creator: "Storykeep", Producer: "Storykeep",
		CreationDate: c.GeneratedAt.UTC()})
	if err := p.addFonts(); err != nil {
		return nil, err
	}
	p.newPage()
	p.header(c)
	p.section(p.t("authorization"))
	p.markdown(c.AuthorizationText)
	p.choices(c)
	p.story(c)
	p.signature(c)
	p.events(c)
	p.evidence(c)
	p.footers(c)
	if p.err != nil {
		return nil, fmt.Errorf("certificate: %w", p.err)
	}
	pdf, err := p.gp.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return finishPDF(pdf, c.Attachments, c.GeneratedAt)
}

type certPDF struct {
	gp          *gopdf.GoPdf
	fonts       *fontSet
	buf         sfnt.Buffer
	lang        string
	loc         *time.Location // the organisation's time zone, for local times
	left, right float64
	y           float64
	err         error
}

const (
	lineH      = 5.0
	pageTop    = 15.0
	pageBottom = 279.0
)

func (p *certPDF) newPage() {
	p.gp.AddPage()
	p.y = pageTop
}

// need starts a new page unless h millimetres fit on this one.
func (p *certPDF) need(h float64) {
	if p.y+h > pageBottom {
		p.newPage()
	}
}

// footers numbers the pages once their count is known.
func (p *certPDF) footers(c CertificateData) {
	n := p.gp.GetNumberOfPages()
	for i := 1; i <= n; i++ {
		if err := p.gp.SetPage(i); err != nil {
			p.fail(err)
			return
		}
		y := p.y
		p.y = 285
		p.para(p.left, p.right-p.left, 7, false, fmt.Sprintf(p.t("footer"), c.CertificateID, i, n))
		p.y = y
	}
}

func (p *certPDF) text(size float64, bold bool, s string) {
	p.para(p.left, p.right-p.left, size, bold, s)
}

func (p *certPDF) section(title string) {
	p.need(20) // keep a heading with what follows
	p.y += 3
	p.text(12, true, title)
	p.gp.SetLineWidth(0.2)
	p.gp.Line(p.left, p.y, p.right, p.y)
	p.y += 2
}

func (p *certPDF) field(label, value string) {
	p.need(lineH)
	y := p.y
	p.para(p.left, 43, 9, true, label)
	labelEnd := p.y
	p.y = y
	if value == "" {
		value = "—"
	}
	p.para(p.left+45, p.right-p.left-45, 9, false, value)
	p.y = max(p.y, labelEnd)
}

func (p *certPDF) header(c CertificateData) {
	p.text(16, true, c.OrganisationName)
	if contact := orgContact(c.Org); contact != "" {
		p.text(8.5, false, contact)
	}
	p.text(13, true, p.t("title"))
	p.y += 1
	p.field(p.t("record"), c.CertificateID)
	p.field(p.t("story"), c.StoryID)
	p.field(p.t("issued"), p.when(c.GeneratedAt))
	if c.StaffCopy {
		p.y += 1
		p.text(9, true, p.t("staffcopy"))
	}
}

// markdown prints the form as plain headings, paragraphs and bullets: the
// words matter here, not the styling.
func (p *certPDF) markdown(src string) {
	var para []string
	flush := func() {
		if len(para) > 0 {
			p.text(9.5, false, plainInline(strings.Join(para, " ")))
			p.y += 1.5
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
			p.y += 1
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flush()
			p.para(p.left+5, p.right-p.left-5, 9.5, false, "• "+plainInline(t[2:]))
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

// mdEscaped is a backslash-escaped ASCII punctuation character (CommonMark):
// Quote escapes the values in a form this way (phone "\+1 …", email "a\@b").
var mdEscaped = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")

// plainInline drops emphasis marks, writes links as "text (url)" and prints
// backslash-escaped punctuation as the character itself, as the patient saw it.
func plainInline(s string) string {
	return mdEscaped.ReplaceAllString(mdLink.ReplaceAllString(inlineMarks.Replace(s), "$1 ($2)"), "$1")
}

func (p *certPDF) choices(c CertificateData) {
	p.section(p.t("choices"))
	p.field(p.t("channels"), strings.Join(c.Channels, ", "))
	p.field(p.t("nameusage"), c.NameUsage)
	p.field(p.t("expires"), c.ExpiresOn.UTC().Format("2006-01-02"))
	p.y += 1
	for _, m := range c.Media {
		p.mediaItem(m)
	}
}

func (p *certPDF) mediaItem(m CertificateMedia) {
	const thumbW, thumbH = 28.0, 21.0
	p.need(thumbH + 2)
	y := p.y
	if _, ok := p.image(m.Thumbnail, p.left, y, thumbW, thumbH); !ok {
		p.gp.RectFromUpperLeftWithStyle(p.left, y, thumbW, thumbH, "D")
		p.y = y + 8
		p.para(p.left+4, thumbW-4, 7, false, p.t("nopreview"))
	}
	p.y = y
	p.para(p.left+thumbW+4, p.right-p.left-thumbW-4, 9, false, m.AltText+"\nMedia "+m.ID+"\nSHA-256 "+m.SHA256)
	p.y = max(p.y, y+thumbH) + 2
}

// image draws a JPEG or PNG scaled into w×h (keeping its shape) and
// reports its width; false when b is not a decodable image.
func (p *certPDF) image(b []byte, x, y, w, h float64) (float64, bool) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || (format != "jpeg" && format != "png") || cfg.Width == 0 || cfg.Height == 0 {
		return 0, false
	}
	scale := min(w/float64(cfg.Width), h/float64(cfg.Height))
	iw, ih := float64(cfg.Width)*scale, float64(cfg.Height)*scale
	holder, err := gopdf.ImageHolderByBytes(b)
	if err != nil {
		return 0, false
	}
	if err := p.gp.ImageByHolder(holder, x, y, &gopdf.Rect{W: iw, H: ih}); err != nil {
		return 0, false
	}
	return iw, true
}

// imageKind returns "JPG" or "PNG" for a decodable image, or "".
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

// story prints the content as signed, in full: the digest covers all of
// it, and the attached frozen JSON lets anyone recompute it.
func (p *certPDF) story(c CertificateData) {
	p.section(p.t("storysigned"))
	p.field(p.t("storytitle"), c.StoryTitle)
	p.field(p.t("summary"), c.StorySummary)
	p.field(p.t("body"), canon(c.StoryBody))
	for _, cc := range c.ChannelCopy {
		if strings.TrimSpace(cc.Text) != "" {
			p.field(p.t("post")+": "+cc.Channel, cc.Text)
		}
	}
}

func (p *certPDF) signature(c CertificateData) {
	if c.Paper != nil {
		p.paperSignature(c)
		return
	}
	if !c.StaffCopy && imageKind(c.SignatureImage) != "PNG" {
		p.fail(fmt.Errorf("the signature image is not a PNG"))
		return
	}
	p.need(55) // keep the heading, the image and the signer together
	p.section(p.t("signature"))
	if c.StaffCopy {
		p.text(9, false, p.t("nosigimage"))
	} else {
		y := p.y
		if _, ok := p.image(c.SignatureImage, p.left, y, 70, 25); ok {
			p.y = y + 26
		}
	}
	p.field(p.t("signedby"), c.SignerName)
	if r := c.Representative; r != nil {
		p.field(p.t("representative"), r.Name)
		p.field(p.t("relationship"), r.Relationship)
		p.field(p.t("authority"), r.Authority)
		signerExtras(p, r)
	}
	if c.Sponsor != "" {
		p.field(p.t("sponsor"), c.Sponsor)
	}
}

func (p *certPDF) events(c CertificateData) {
	p.section(p.t("events"))
	for _, e := range c.Events {
		p.field(p.t("ev_"+e.Kind), p.when(e.At)+"   IP "+e.IP)
	}
	if c.VerifyMethod != "" && c.Paper == nil {
		p.field(p.t("method"), p.t("method_"+c.VerifyMethod)+"; "+fmt.Sprintf(p.t("failed"), c.FailedTries))
	}
	if c.UserAgent != "" {
		p.field(p.t("device"), c.UserAgent)
	}
	esign := p.t("no")
	if c.EsignAgreed {
		esign = p.t("yes")
	}
	p.field(p.t("esign"), esign)
	p.esignAgreement(c)
}

// esignAgreement prints the e-sign consumer disclosure the signer agreed
// to: its version, language and SHA-256, then its text in full.
func (p *certPDF) esignAgreement(c CertificateData) {
	p.section(p.t("esign_h"))
	if c.EsignText == "" {
		p.field(p.t("esign_disclosure"), p.t("esign_unrecorded")+" SHA-256 "+c.EsignSHA256)
		return
	}
	p.field(p.t("esign_disclosure"), fmt.Sprintf(p.t("esign_version"), c.EsignVersion, c.EsignLanguage))
	p.field("SHA-256", c.EsignSHA256)
	p.y += 1
	for _, para := range strings.Split(c.EsignText, "\n\n") {
		p.text(8.5, false, para)
		p.y += 1
	}
}

// when writes t in UTC and, when the organisation's time zone is not UTC,
// in local time with the zone's abbreviation and IANA name.
func (p *certPDF) when(t time.Time) string {
	s := utc(t)
	if p.loc == nil || p.loc == time.UTC || p.loc.String() == "UTC" {
		return s
	}
	l := t.In(p.loc)
	return s + " · " + l.Format("2006-01-02 15:04:05 MST (-07:00)") + " " + p.loc.String()
}

// orgContact is the organisation's contact line under its name.
func orgContact(o organisation.Profile) string {
	var parts []string
	for _, s := range []string{o.LegalName, o.AddressLine(), o.Phone, o.PrivacyEmail} {
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

func (p *certPDF) evidence(c CertificateData) {
	p.section(p.t("evidence"))
	p.field(p.t("digest"), c.ContentDigest)
	p.field(p.t("template"), fmt.Sprintf("%s, v%d", c.TemplateID, c.TemplateVersion))
	p.field(p.t("templatesha"), c.TemplateTextSHA256)
	if len(c.Attachments) > 0 {
		var names []string
		for _, a := range c.Attachments {
			names = append(names, a.Name)
		}
		p.field(p.t("attached"), strings.Join(names, ", "))
	}
	p.y += 2
	p.text(9, false, fmt.Sprintf(p.t("verify"), strings.TrimRight(c.PublicURL, "/"), c.CertificateID, c.ContentDigest))
	p.y += 1
	p.text(9, false, p.t("revoke"))
}

func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// certLabels frame the certificate in the patient's language.
var certLabels = map[string]map[string]string{
	"en": {
		"title": "Certificate of signed authorization", "record": "Record id", "story": "Story id", "issued": "Issued",
		"staffcopy":     "Staff evidence copy: the signature image and the signer's revocation link are left out.",
		"authorization": "Authorization as shown to the signer", "choices": "The signer's choices", "channels": "Channels",
		"nameusage": "Name usage", "expires": "Expires on", "nopreview": "no preview", "storysigned": "Story as signed",
		"storytitle": "Title", "summary": "Summary", "body": "Body", "post": "Post", "signature": "Signature",
		"nosigimage": "(signature image not included in this copy)", "signedby": "Signed by (typed)",
		"representative": "Representative", "relationship": "Relationship", "authority": "Authority",
		"events": "Event trail", "evidence": "Evidence", "digest": "Content digest", "template": "Form template",
		"templatesha": "Form text SHA-256", "attached": "Attached files",
		"verify":  "Verify at %s/verify/%s (upload this PDF or enter its SHA-256) — content digest %s",
		"revoke":  "The signer can revoke this authorization at any time, in writing: with the personal link in the email that carried this certificate, or by letter to the organisation.",
		"footer":  "Certificate %s — page %d of %d",
		"ev_sent": "sent", "ev_opened": "opened", "ev_verified": "verified", "ev_signed": "signed",
		"method": "Identity check", "method_dob": "date of birth", "method_email_code": "code sent by email", "failed": "%d failed tries before",
		"device": "Browser and device", "esign": "Agreed to sign electronically", "yes": "yes", "no": "no",
		"esign_h": "Electronic signature agreement", "esign_disclosure": "Disclosure shown", "esign_version": "version %s, language %s",
		"esign_unrecorded": "signed before the disclosure's text was kept;",
	},
	"es": {
		"title": "Certificado de autorización firmada", "record": "Id del registro", "story": "Id de la historia", "issued": "Emitido",
		"staffcopy":     "Copia de evidencia para el personal: sin la imagen de la firma ni el enlace personal de revocación.",
		"authorization": "Autorización tal como se mostró a quien firmó", "choices": "Lo que eligió quien firmó", "channels": "Canales",
		"nameusage": "Uso del nombre", "expires": "Vence el", "nopreview": "sin vista previa", "storysigned": "Historia tal como se firmó",
		"storytitle": "Título", "summary": "Resumen", "body": "Texto", "post": "Publicación", "signature": "Firma",
		"nosigimage": "(la imagen de la firma no se incluye en esta copia)", "signedby": "Firmado por (escrito)",
		"representative": "Representante", "relationship": "Relación", "authority": "Autoridad",
		"events": "Registro de eventos", "evidence": "Evidencia", "digest": "Huella del contenido", "template": "Plantilla del formulario",
		"templatesha": "SHA-256 del texto del formulario", "attached": "Archivos adjuntos",
		"verify":  "Verifíquelo en %s/verify/%s (suba este PDF o escriba su SHA-256) — huella del contenido %s",
		"revoke":  "Quien firmó puede revocar esta autorización en cualquier momento, por escrito: con el enlace personal del correo que trajo este certificado, o por carta a la organización.",
		"footer":  "Certificado %s — página %d de %d",
		"ev_sent": "enviado", "ev_opened": "abierto", "ev_verified": "identidad verificada", "ev_signed": "firmado",
		"method": "Verificación de identidad", "method_dob": "fecha de nacimiento", "method_email_code": "código enviado por correo", "failed": "%d intentos fallidos antes",
		"device": "Navegador y dispositivo", "esign": "Aceptó firmar electrónicamente", "yes": "sí", "no": "no",
		"esign_h": "Acuerdo de firma electrónica", "esign_disclosure": "Aviso mostrado", "esign_version": "versión %s, idioma %s",
		"esign_unrecorded": "firmado antes de que se guardara el texto del aviso;",
	},
}

func (p *certPDF) t(key string) string {
	if m, ok := certLabels[p.lang]; ok {
		if s, ok := m[key]; ok {
			return s
		}
	}
	if s, ok := certLabels["en"][key]; ok {
		return s
	}
	return strings.TrimPrefix(key, "ev_")
}
