package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strings"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/models"
)

type certJob struct {
	RecordID string `json:"record_id"`
}

// maxThumbnailSource bounds an original read for a certificate thumbnail
// when no rendition exists.
const maxThumbnailSource = 4 << 20

// HandleCertificate renders the certificate of a signed record, stores it
// (its SHA-256 recorded on the record) and emails it to the signer with the
// revocation link (164.508(c)(4)). A retry after a failed email reuses the
// stored certificate.
func (s *Service) HandleCertificate(ctx context.Context, job *models.Job) error {
	var j certJob
	if err := jobs.Decode(job, &j); err != nil {
		return err
	}
	rec, err := s.Record(ctx, j.RecordID)
	if err != nil {
		return jobs.Permanent(err)
	}
	r, err := s.request(s.db.WithContext(ctx), rec.RequestID)
	if err != nil {
		return jobs.Permanent(err)
	}
	pdf, err := s.certificate(ctx, rec, r)
	if err != nil {
		return err
	}
	to, err := s.signerAddress(ctx, r, "consent_certificate")
	if err != nil || to == "" {
		return err
	}
	if paperOnly, err := s.PaperOnly(ctx, rec.PatientID); err != nil || paperOnly {
		return err // the printed-copy task stands for the email
	}
	// A fresh link for this email, of which only the hash is kept: a retry
	// issues another, and every link sent keeps working.
	revokeToken, err := s.IssueRevokeLink(ctx, nil, rec, RevokeLinkEmail)
	if err != nil {
		return err
	}
	org, err := s.OrganisationProfile(ctx)
	if err != nil {
		return err
	}
	m := certificateMail(rec.Language, s.cfg.OrganisationName, ContactLine(rec.Language, s.cfg.OrganisationName, org), s.RevokeURL(revokeToken), s.cfg.PublicURL+"/verify/"+rec.ID)
	m.To = to
	m.Attachments = []mail.Attachment{{Name: "authorization-" + rec.ID + ".pdf", ContentType: "application/pdf", Data: pdf}}
	return s.mail.Send(ctx, m)
}

// certificate returns the stored certificate, rendering and storing it first
// if needed.
func (s *Service) certificate(ctx context.Context, rec *models.ConsentRecord, r *models.ConsentRequest) ([]byte, error) {
	if rec.CertificateKey != "" {
		return s.readObject(ctx, rec.CertificateKey, 0)
	}
	data, err := s.certificateData(ctx, rec, r)
	if err != nil {
		return nil, err
	}
	pdf, err := s.renderSealed(data)
	if err != nil {
		return nil, err
	}
	// The job and the patient's completion page may both get here: each
	// stores its own object and the first to claim the record wins, so the
	// stored, emailed and downloaded copies are one and the same.
	sum := sha256.Sum256(pdf)
	sumHex := hex.EncodeToString(sum[:])
	key := "consents/" + rec.ID + "/certificate-" + sumHex[:16] + ".pdf"
	if _, err := s.store.Put(ctx, key, bytes.NewReader(pdf), int64(len(pdf)), "application/pdf"); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&models.ConsentRecord{}).Where("id = ? AND certificate_key = ''", rec.ID).
		Updates(map[string]any{"certificate_key": key, "certificate_sha256": sumHex})
	if q.Error != nil {
		return nil, q.Error
	}
	if q.RowsAffected == 0 {
		var cur models.ConsentRecord
		if err := s.db.WithContext(ctx).Where("id = ?", rec.ID).Take(&cur).Error; err != nil {
			return nil, err
		}
		// Identical bytes give the winner's key: deleting it would delete
		// the stored certificate itself.
		if cur.CertificateKey != key {
			_ = s.store.Delete(ctx, key)
		}
		rec.CertificateKey, rec.CertificateSHA256 = cur.CertificateKey, cur.CertificateSHA256
		return s.readObject(ctx, cur.CertificateKey, 0)
	}
	rec.CertificateKey, rec.CertificateSHA256 = key, sumHex
	// Only the stored certificate is made write-once: a copy that lost the
	// race above is deleted. If queueing fails, the daily retention job
	// retains it (the record is valid).
	if err := s.lockEvidence(ctx, nil, rec.ID, "certificate"); err != nil {
		s.log.Warn("consent: certificate write-once lock not queued", "record", rec.ID, "err", err)
	}
	return pdf, nil
}

func (s *Service) certificateData(ctx context.Context, rec *models.ConsentRecord, r *models.ConsentRequest) (CertificateData, error) {
	f, err := ParseFrozen(rec.FrozenJSON)
	if err != nil {
		return CertificateData{}, jobs.Permanent(err)
	}
	var sig []byte
	if rec.SignatureKey != "" { // a paper record has its scan instead
		if sig, err = s.readObject(ctx, rec.SignatureKey, 0); err != nil {
			return CertificateData{}, err
		}
	}
	scope, err := SignedScopeJSON(rec)
	if err != nil {
		return CertificateData{}, jobs.Permanent(err)
	}
	d := CertificateData{Language: rec.Language, OrganisationName: s.cfg.OrganisationName, CertificateID: rec.ID, StoryID: rec.StoryID,
		PublicURL: s.cfg.PublicURL, GeneratedAt: s.now(), AuthorizationText: redactRevokeLinks(rec.AuthorizationText), TemplateID: rec.TemplateID, TemplateVersion: rec.TemplateVersion,
		TemplateTextSHA256: rec.TemplateTextSHA256, ContentDigest: rec.Digest, NameUsage: NameUsageText(rec.Language, rec.NameUsage),
		ExpiresOn: rec.ExpiresOn, StoryTitle: f.Title, StorySummary: f.Summary, StoryBody: f.Body, SignatureImage: sig, SignerName: rec.SignerName}
	chosen := parseList(rec.Channels)
	for _, c := range channels.All {
		if slices.Contains(chosen, c.Key) {
			d.Channels = append(d.Channels, certChannelLabel(rec.Language, c.Key, c.Label))
		}
	}
	for _, cc := range f.Channels {
		if slices.Contains(chosen, cc.Channel) {
			d.ChannelCopy = append(d.ChannelCopy, cc)
		}
	}
	media := parseList(rec.MediaIDs)
	for _, m := range f.Media {
		if slices.Contains(media, m.ID) {
			d.Media = append(d.Media, CertificateMedia{ID: m.ID, SHA256: m.SHA256, AltText: m.AltText, Thumbnail: s.thumbnail(ctx, m.ID)})
		}
	}
	d.Attachments = []Attachment{
		{Name: FrozenAttachment, Description: "Frozen content (canonical JSON); its SHA-256 is the content digest", MIME: "application/json", Data: []byte(rec.FrozenJSON)},
		{Name: ScopeAttachment, Description: "Signed scope: the signer's choices as recorded", MIME: "application/json", Data: scope},
	}
	if rec.ScopeDigest != "" { // older records have no scope digest to recompute
		canonical, _, err := SignedScope(rec)
		if err != nil {
			return CertificateData{}, jobs.Permanent(err)
		}
		d.Attachments = append(d.Attachments, Attachment{Name: CanonicalScopeAttachment,
			Description: "Signed scope (canonical JSON, RFC 8785); its SHA-256 is the scope digest", MIME: "application/json", Data: canonical})
	}
	if rec.RepName != "" {
		d.Representative = &Representative{Name: rec.RepName, Relationship: rec.RepRelationship, Authority: rec.RepAuthority,
			Statement: rec.RepStatement, DocumentSHA256: rec.RepDocumentSHA256, Assent: rec.AssentName}
	}
	d.Sponsor = rec.Sponsor
	d.UserAgent, d.VerifyMethod, d.FailedTries, d.EsignAgreed = rec.UserAgent, r.VerifyMethod, r.Failures, rec.EsignAgreed
	d.EsignVersion, d.EsignLanguage, d.EsignSHA256, d.EsignText = rec.EsignVersion, rec.EsignLanguage, rec.EsignSHA256, rec.EsignText
	if d.Org, err = s.OrganisationProfile(ctx); err != nil {
		return CertificateData{}, err
	}
	d.Events = []CertificateEvent{{Kind: "sent", At: rec.SentAt, IP: "—"}}
	if rec.OpenedAt != nil {
		d.Events = append(d.Events, CertificateEvent{Kind: "opened", At: *rec.OpenedAt, IP: r.OpenedIP})
	}
	if rec.VerifiedAt != nil {
		d.Events = append(d.Events, CertificateEvent{Kind: "verified", At: *rec.VerifiedAt, IP: r.VerifiedIP})
	}
	d.Events = append(d.Events, CertificateEvent{Kind: "signed", At: rec.SignedAt, IP: rec.IP})
	if rec.Method == models.MethodPaper {
		s.paperCertificate(ctx, &d, rec)
	}
	return d, nil
}

// thumbnail is the asset's thumbnail rendition, or a small original image;
// nil when neither is available (the certificate then says "no preview").
func (s *Service) thumbnail(ctx context.Context, assetID string) []byte {
	if rd, err := s.media.Rendition(ctx, assetID, "thumbnail"); err == nil && rd != nil {
		if b, err := s.readObject(ctx, rd.StorageKey, maxThumbnailSource); err == nil {
			return b
		}
	}
	a, err := s.media.Get(ctx, assetID)
	if err != nil || a.Kind != "image" || a.SizeBytes > maxThumbnailSource {
		return nil
	}
	b, _ := s.readObject(ctx, a.StorageKey, maxThumbnailSource)
	return b
}

func (s *Service) readObject(ctx context.Context, key string, limit int64) ([]byte, error) {
	rc, _, err := s.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if limit > 0 {
		return io.ReadAll(io.LimitReader(rc, limit))
	}
	return io.ReadAll(rc)
}

// renderSealed renders a certificate and seals it when a sealer is set. A
// rendering failure is permanent; a sealing failure (the timestamp
// authority is down) is retried.
func (s *Service) renderSealed(data CertificateData) ([]byte, error) {
	pdf, err := RenderCertificate(data)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	if s.Sealer == nil {
		return pdf, nil
	}
	return s.Sealer.Seal(pdf, data.GeneratedAt)
}

// StaffEvidenceCopy renders a sealed evidence copy of rec's certificate for
// staff and third parties (the export bundle): no revocation link and no
// signature image (finding F5). The digests and attachments are the same as
// the patient's copy, so it verifies the same way, except that when the
// patient withheld their full name the canonical scope
// (signed-scope-canonical.json) is left out: it carries the signer's and
// representative's names. Such a copy still verifies; only the scope digest
// cannot be recomputed from it alone.
func (s *Service) StaffEvidenceCopy(ctx context.Context, rec *models.ConsentRecord) ([]byte, error) {
	r, err := s.request(s.read.WithContext(ctx), rec.RequestID)
	if err != nil {
		return nil, err
	}
	data, err := s.certificateData(ctx, rec, r)
	if err != nil {
		return nil, err
	}
	data.StaffCopy, data.SignatureImage = true, nil
	if rec.NameUsage != "full" {
		p, err := s.patients.Get(ctx, rec.PatientID)
		if err != nil {
			return nil, err
		}
		withholdNames(&data, p.FullName, rec.SignerName, rec.RepName)
		data.Attachments = slices.DeleteFunc(data.Attachments, func(a Attachment) bool { return a.Name == CanonicalScopeAttachment })
	}
	return s.renderSealed(data)
}

// Certificate returns a record's stored certificate PDF for staff download.
func (s *Service) Certificate(ctx context.Context, rec *models.ConsentRecord) ([]byte, error) {
	if rec.CertificateKey == "" {
		return nil, nil
	}
	return s.readObject(ctx, rec.CertificateKey, 0)
}

// withheldName replaces names the patient chose to withhold in the evidence
// copy given to staff and third parties.
const withheldName = "[name withheld]"

// withholdNames takes the given names out of everything the certificate
// prints (the attached files carry no names but the story's own words, which
// the export ships anyway; StaffEvidenceCopy drops the canonical scope,
// which names the signer).
func withholdNames(d *CertificateData, names ...string) {
	var pairs []string
	for _, n := range names {
		if n = strings.TrimSpace(n); len([]rune(n)) >= 3 {
			pairs = append(pairs, n, withheldName)
		}
	}
	if len(pairs) == 0 {
		return
	}
	r := strings.NewReplacer(pairs...)
	d.AuthorizationText = r.Replace(d.AuthorizationText)
	d.StoryTitle, d.StorySummary, d.StoryBody = r.Replace(d.StoryTitle), r.Replace(d.StorySummary), r.Replace(d.StoryBody)
	for i := range d.ChannelCopy {
		d.ChannelCopy[i].Text = r.Replace(d.ChannelCopy[i].Text)
	}
	for i := range d.Media {
		d.Media[i].AltText = r.Replace(d.Media[i].AltText)
	}
	d.SignerName = withheldName
	if d.Representative != nil {
		d.Representative.Name = withheldName
	}
}

// PatientCertificate returns the certificate of the record signed through
// r, making and storing it first when the job has not yet (the completion
// page offers it at once). The download is audited as the patient's.
func (s *Service) PatientCertificate(ctx context.Context, r *models.ConsentRequest, ip string) ([]byte, string, error) {
	var rec models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("request_id = ?", r.ID).Limit(1).Find(&rec).Error; err != nil {
		return nil, "", err
	}
	if rec.ID == "" {
		return nil, "", ErrLinkNotUsable
	}
	pdf, err := s.certificate(ctx, &rec, r)
	if err != nil {
		return nil, "", err
	}
	ctx = patientCtx(ctx, r.ID, ip)
	return pdf, rec.ID, s.audit.Record(ctx, nil, audit.Entry{Action: "consent.certificate_patient_download", ObjectType: "consent_record", ObjectID: rec.ID})
}

// certChannelLabel names a channel on the certificate in its language; the
// social networks are brand names in every language.
func certChannelLabel(lang, key, label string) string {
	if lang == "es" {
		switch key {
		case "website":
			return "Sitio web"
		case "youtube":
			return "Descripción de YouTube"
		}
	}
	return label
}
