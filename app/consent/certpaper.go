package consent

import (
	"context"

	"github.com/storykeep/storykeep/models"
)

// PaperEvidence is what a certificate prints for a paper-signed
// authorization: the date on the form, when staff recorded it, and the
// scan's SHA-256 (the scan itself stays in storage, linked to the record).
type PaperEvidence struct {
	SignedOn   string // YYYY-MM-DD as written on the form
	ScanSHA256 string
	ScanType   string
}

func init() {
	for lang, m := range map[string]map[string]string{
		"en": {"paper_signed": "Signed on paper", "paper_signedon": "Date on the form", "paper_scan": "Scan of the signed form (SHA-256)",
			"paper_type": "Scan format", "ev_recorded": "recorded from paper by staff", "paper_note": "Method: paper. Staff copied the signer's choices from the signed form; the scan is kept with the record."},
		"es": {"paper_signed": "Firmado en papel", "paper_signedon": "Fecha en el formulario", "paper_scan": "Copia escaneada del formulario firmado (SHA-256)",
			"paper_type": "Formato del escaneo", "ev_recorded": "registrado desde papel por el personal", "paper_note": "Método: papel. El personal copió las elecciones del formulario firmado; el escaneo se guarda con el registro."},
	} {
		for k, v := range m {
			certLabels[lang][k] = v
		}
	}
}

// paperCertificate fills the paper evidence of rec into d: the events are
// the request being made and the paper being recorded (no link was opened).
func (s *Service) paperCertificate(ctx context.Context, d *CertificateData, rec *models.ConsentRecord) {
	pe := &PaperEvidence{ScanSHA256: rec.PaperScanSHA256}
	if rec.PaperSignedOn != nil {
		pe.SignedOn = rec.PaperSignedOn.UTC().Format("2006-01-02")
	}
	var doc models.ConsentPaperDocument
	if err := s.read.WithContext(ctx).Where("record_id = ? AND kind = ?", rec.ID, models.PaperAuthorization).Limit(1).Find(&doc).Error; err == nil {
		pe.ScanType = doc.ContentType
	}
	d.Paper, d.SignatureImage, d.UserAgent, d.EsignAgreed = pe, nil, "", false
	d.Events = []CertificateEvent{{Kind: "sent", At: rec.SentAt, IP: "—"}, {Kind: "recorded", At: rec.SignedAt, IP: "—"}}
}

// paperSignature prints the paper signature block.
func (p *certPDF) paperSignature(c CertificateData) {
	p.need(45)
	p.section(p.t("signature"))
	p.text(9, false, p.t("paper_note"))
	p.field(p.t("paper_signed"), p.t("yes"))
	p.field(p.t("paper_signedon"), c.Paper.SignedOn)
	p.field(p.t("paper_scan"), c.Paper.ScanSHA256)
	if c.Paper.ScanType != "" {
		p.field(p.t("paper_type"), c.Paper.ScanType)
	}
	p.field(p.t("signedby"), c.SignerName)
	if r := c.Representative; r != nil {
		p.field(p.t("representative"), r.Name)
		p.field(p.t("relationship"), r.Relationship)
		p.field(p.t("authority"), r.Authority)
	}
}
