package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	_ "image/jpeg" // decoding a scanned JPEG proves it is one
	_ "image/png"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// MaxPaperScanBytes bounds a scanned paper (a few pages at 200 dpi).
const MaxPaperScanBytes = 10 << 20

// PaperScan is an uploaded scan: its bytes and the name it was sent with.
type PaperScan struct {
	Data []byte
	Name string
}

// sniffScan accepts PDF, JPEG and PNG by their bytes, never by the name or
// the browser's content type: a PDF must start with its header, an image
// must decode its header as one.
func sniffScan(b []byte) (contentType, ext string, ok bool) {
	if len(b) == 0 || len(b) > MaxPaperScanBytes {
		return "", "", false
	}
	switch http.DetectContentType(b) {
	case "application/pdf":
		if bytes.HasPrefix(b, []byte("%PDF-")) {
			return "application/pdf", "pdf", true
		}
	case "image/jpeg", "image/png":
		_, format, err := image.DecodeConfig(bytes.NewReader(b))
		if err == nil && format == "jpeg" {
			return "image/jpeg", "jpg", true
		}
		if err == nil && format == "png" {
			return "image/png", "png", true
		}
	}
	return "", "", false
}

// paperDate parses a date written on paper or the day a letter arrived: not
// in the future, not before notBefore (when set).
func paperDate(v string, now, notBefore time.Time) (time.Time, bool) {
	d, err := time.Parse("2006-01-02", strings.TrimSpace(v))
	if err != nil || d.After(now) {
		return time.Time{}, false
	}
	if !notBefore.IsZero() && d.Before(notBefore.UTC().Truncate(24*time.Hour)) {
		return time.Time{}, false
	}
	return d, true
}

// storeScan puts a scan into object storage beside the other consent
// evidence and returns its document row (not yet saved).
func (s *Service) storeScan(ctx context.Context, kind, patientID, storyID string, scan PaperScan, datedOn time.Time) (*models.ConsentPaperDocument, error) {
	ct, ext, ok := sniffScan(scan.Data)
	if !ok {
		return nil, FieldErrors{"scan": "Upload the scan as a PDF, JPEG or PNG file of at most 10 MB."}
	}
	sum := sha256.Sum256(scan.Data)
	now := s.now()
	doc := &models.ConsentPaperDocument{ID: newID(), Kind: kind, PatientID: patientID, StoryID: storyID, SHA256: hex.EncodeToString(sum[:]),
		ContentType: ct, SizeBytes: int64(len(scan.Data)), DatedOn: datedOn, RecordedBy: audit.ActorFrom(ctx).ID, CreatedAt: now}
	doc.StorageKey = "consents/paper/" + doc.ID + "." + ext
	if _, err := s.store.Put(ctx, doc.StorageKey, bytes.NewReader(scan.Data), int64(len(scan.Data)), ct); err != nil {
		return nil, err
	}
	return doc, nil
}

// PaperInput is what staff copy from a paper authorization the signer
// filled in and signed: the same choices the e-sign form asks for.
type PaperInput struct {
	Channels   []string
	MediaIDs   []string
	NameUsage  string
	ExpiresOn  string // YYYY-MM-DD
	SignerName string // as printed on the form
	SignedOn   string // YYYY-MM-DD, the date written beside the signature
	Scan       PaperScan
}

// RecordPaper records a paper-signed authorization for a request still
// open (the form staff printed from it is what was signed). It takes the
// e-signature's path: the choices are validated against what was asked,
// the story must still have the content sent, the final text is rendered
// from the choices, the signed-scope digest covers them plus the method,
// the scan's SHA-256 and the date signed; then in one transaction the
// request closes, the record is written, the story moves to consented and
// the certificate is queued, all audited.
func (s *Service) RecordPaper(ctx context.Context, storyID, requestID string, in PaperInput) (*models.ConsentRecord, error) {
	r, err := s.request(s.db.WithContext(ctx), requestID)
	if err != nil || r.StoryID != storyID {
		return nil, apperr.NotFound("That consent request does not exist.")
	}
	if r.Status == models.RequestSigned {
		return nil, ErrAlreadySigned
	}
	if !isLive(r.Status) && r.Status != models.RequestLocked {
		return nil, apperr.New(http.StatusConflict, "This request has ended ("+r.Status+"). Send a new one and have the patient sign its printed form.")
	}
	now := s.now()
	sin := SignInput{Channels: in.Channels, MediaIDs: dedupe(in.MediaIDs), NameUsage: in.NameUsage, ExpiresOn: in.ExpiresOn}
	fe, exp := sin.validateChoices(ProposalOf(r), "en", now)
	if fe == nil {
		fe = FieldErrors{}
	}
	in.SignerName = strings.TrimSpace(in.SignerName)
	if in.SignerName == "" || utf8.RuneCountInString(in.SignerName) > 200 {
		fe["signer_name"] = "Type the signer's name as printed on the form."
	}
	signedOn, ok := paperDate(in.SignedOn, now, r.SentAt)
	if !ok {
		fe["signed_on"] = "Enter the date written beside the signature: not in the future, not before the form was made (" + r.SentAt.Format("2006-01-02") + ")."
	}
	if _, _, ok := sniffScan(in.Scan.Data); !ok {
		fe["scan"] = "Upload the signed form as a PDF, JPEG or PNG file of at most 10 MB."
	}
	if len(fe) > 0 {
		return nil, fe
	}
	if err := s.checkUnchanged(ctx, r); err != nil {
		return nil, err
	}
	pd, err := s.patients.View(ctx, r.PatientID, "consent_paper")
	if err != nil {
		return nil, err
	}
	fin, err := s.final(ctx, r, sin, &pd.Patient)
	if err != nil {
		return nil, err
	}
	doc, err := s.storeScan(ctx, models.PaperAuthorization, r.PatientID, r.StoryID, in.Scan, signedOn)
	if err != nil {
		return nil, err
	}
	rec := &models.ConsentRecord{ID: newID(), RequestID: r.ID, StoryID: r.StoryID, PatientID: r.PatientID, Digest: r.Digest, FrozenJSON: r.FrozenJSON,
		TemplateID: r.TemplateID, TemplateVersion: r.TemplateVersion, TemplateTextSHA256: r.TemplateTextSHA256, AuthorizationText: fin.Text,
		AuthorizationSHA256: fin.SHA256, SignerKind: r.SignerKind, Language: r.Language, Channels: jsonList(orderedChannels(sin.Channels)),
		MediaIDs: jsonList(sin.MediaIDs), NameUsage: sin.NameUsage, ExpiresOn: exp, SignerName: in.SignerName,
		Method: models.MethodPaper, PaperScanSHA256: doc.SHA256, PaperSignedOn: &signedOn,
		SentAt: r.SentAt, OpenedAt: r.OpenedAt, VerifiedAt: r.VerifiedAt, SignedAt: now,
		Status: models.RecordValid, CreatedAt: now}
	doc.RecordID = rec.ID
	if r.SignerKind == "representative" {
		rec.RepName, rec.RepRelationship, rec.RepAuthority = pd.RepName, pd.RepRelationship, pd.RepAuthority
	}
	if dob, err := time.Parse("2006-01-02", pd.DOB); err == nil && dob.AddDate(18, 0, 0).After(now) {
		m := dob.AddDate(18, 0, 0)
		rec.Minor, rec.MajorityOn = true, &m
	}
	if _, rec.ScopeDigest, err = SignedScope(rec); err != nil {
		return nil, err
	}
	paperOnly, err := s.PaperOnly(ctx, r.PatientID)
	if err != nil {
		return nil, err
	}
	err = s.transitionWith(ctx, systemActor, r.StoryID, workflow.Consented, "Staff recorded the patient's signed paper consent.", func(tx *gorm.DB) error {
		q := tx.Model(&models.ConsentRequest{}).Where("id = ? AND status IN ?", r.ID, append(slices.Clone(liveRequest), models.RequestLocked)).
			Updates(map[string]any{"status": models.RequestSigned, "verify_method": "paper", "completed_at": now, "updated_at": now})
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected == 0 {
			return ErrAlreadySigned
		}
		if err := tx.Create(rec).Error; err != nil {
			return err
		}
		if err := tx.Create(doc).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.sign", ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"request_id": r.ID, "story_id": r.StoryID, "digest": r.Digest, "scope_digest": rec.ScopeDigest, "channels": parseList(rec.Channels),
				"media": len(sin.MediaIDs), "name_usage": sin.NameUsage, "expires_on": exp.Format("2006-01-02"), "method": models.MethodPaper,
				"scan_sha256": doc.SHA256, "scan_document": doc.ID, "signed_on": signedOn.Format("2006-01-02"),
				"minor": rec.Minor, "representative": r.SignerKind == "representative"}}); err != nil {
			return err
		}
		if err := s.notifyStaff(ctx, tx, r.StoryID, r.CreatedBy, NotifySigned); err != nil {
			return err
		}
		if err := s.copyTask(ctx, tx, rec, pd.Email == "" || paperOnly); err != nil {
			return err
		}
		if _, err := s.jobs.Enqueue(ctx, tx, JobCertificate, certJob{RecordID: rec.ID}, jobs.Options{Key: JobCertificate + ":" + rec.ID}); err != nil {
			return err
		}
		// As with an e-signature, the record's evidence becomes write-once
		// once the record exists.
		return s.lockEvidence(ctx, tx, rec.ID, "signed")
	})
	if err != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), doc.StorageKey)
		return nil, err
	}
	return rec, nil
}

// WrittenRevocation is a revocation the patient sent on paper.
type WrittenRevocation struct {
	ReceivedOn string // YYYY-MM-DD
	Letter     PaperScan
}

// RevokeWritten records a written revocation (164.508(b)(5)): the letter is
// stored with its SHA-256 and the record ends through the electronic
// revocation's path (story withdrawn, takedown queued, staff told, the
// patient sent a dated receipt), all audited, with the staff member who
// recorded it as the actor.
func (s *Service) RevokeWritten(ctx context.Context, storyID, recordID string, in WrittenRevocation) error {
	rec, err := s.Record(ctx, recordID)
	if err != nil || rec.StoryID != storyID {
		return apperr.NotFound("That consent record does not exist.")
	}
	if rec.Status == models.RecordRevoked {
		return ErrAlreadyRevoked
	}
	now := s.now()
	fe := FieldErrors{}
	received, ok := paperDate(in.ReceivedOn, now, rec.SignedAt)
	if !ok {
		fe["received_on"] = "Enter the date the letter arrived: not in the future, not before the consent was signed (" + rec.SignedAt.Format("2006-01-02") + ")."
	}
	if _, _, ok := sniffScan(in.Letter.Data); !ok {
		fe["scan"] = "Upload the letter as a PDF, JPEG or PNG file of at most 10 MB."
	}
	if len(fe) > 0 {
		return fe
	}
	doc, err := s.storeScan(ctx, models.PaperRevocation, rec.PatientID, rec.StoryID, in.Letter, received)
	if err != nil {
		return err
	}
	doc.RecordID = rec.ID
	err = s.endWith(ctx, rec, models.RecordRevoked, "written revocation received "+received.Format("2006-01-02"), NotifyRevoked, func(tx *gorm.DB) error {
		if err := tx.Create(doc).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.revoke_written", ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"story_id": rec.StoryID, "method": models.MethodPaper, "received_on": received.Format("2006-01-02"),
				"letter_sha256": doc.SHA256, "letter_document": doc.ID}})
	})
	if err != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), doc.StorageKey)
	}
	return err
}

// EsignWithdrawal is the patient's withdrawal of consent to electronic
// records (ESIGN 15 U.S.C. 7001(c)(1)(B)): a letter (optional: it may be
// said at the desk or on the phone) and the date it was received.
type EsignWithdrawal struct {
	ReceivedOn string
	Letter     PaperScan // may be empty
}

// WithdrawEsign records that the patient no longer agrees to electronic
// records. Their authorizations stay as they are (withdrawing e-consent is
// not a revocation); from now on nothing is emailed to them: notices,
// receipts and copies become staff tasks to send on paper, and a task
// tells staff to switch. Audited.
func (s *Service) WithdrawEsign(ctx context.Context, storyID string, in EsignWithdrawal) error {
	st, err := s.Stories.Get(ctx, storyID)
	if err != nil {
		return err
	}
	now := s.now()
	received, ok := paperDate(in.ReceivedOn, now, time.Time{})
	if !ok {
		return FieldErrors{"received_on": "Enter the date the patient told you: not in the future."}
	}
	if already, err := s.PaperOnly(ctx, st.PatientID); err != nil || already {
		if err == nil {
			err = apperr.New(http.StatusConflict, "The patient already withdrew consent to electronic records.")
		}
		return err
	}
	var doc *models.ConsentPaperDocument
	if len(in.Letter.Data) > 0 {
		if doc, err = s.storeScan(ctx, models.PaperEsignWithdrawal, st.PatientID, st.ID, in.Letter, received); err != nil {
			return err
		}
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		w := models.PatientEsignWithdrawal{PatientID: st.PatientID, ReceivedOn: received, RecordedBy: audit.ActorFrom(ctx).ID, CreatedAt: now}
		details := map[string]any{"story_id": st.ID, "received_on": received.Format("2006-01-02")}
		if doc != nil {
			if err := tx.Create(doc).Error; err != nil {
				return err
			}
			w.DocumentID, details["letter_sha256"], details["letter_document"] = doc.ID, doc.SHA256, doc.ID
		}
		if err := tx.Create(&w).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.esign_withdrawn", ObjectType: "patient", ObjectID: st.PatientID, Details: details}); err != nil {
			return err
		}
		return s.addTask(ctx, tx, models.ConsentPatientTask{Kind: models.TaskPaperOnly, PatientID: st.PatientID, StoryID: st.ID,
			TaskKey: models.TaskPaperOnly + ":" + st.PatientID})
	})
	if err != nil && doc != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), doc.StorageKey)
	}
	return err
}

// PaperOnly says whether the patient withdrew consent to electronic records.
func (s *Service) PaperOnly(ctx context.Context, patientID string) (bool, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&models.PatientEsignWithdrawal{}).Where("patient_id = ?", patientID).Count(&n).Error
	return n > 0, err
}

// PaperDocuments lists the scans recorded for a story, oldest first.
func (s *Service) PaperDocuments(ctx context.Context, storyID string) ([]models.ConsentPaperDocument, error) {
	var out []models.ConsentPaperDocument
	err := s.read.WithContext(ctx).Where("story_id = ?", storyID).Order("created_at, id").Find(&out).Error
	return out, err
}

// PaperDocument returns one scan's row and bytes, checking their SHA-256.
func (s *Service) PaperDocument(ctx context.Context, storyID, id string) (*models.ConsentPaperDocument, []byte, error) {
	var doc models.ConsentPaperDocument
	if err := s.read.WithContext(ctx).Where("id = ? AND story_id = ?", id, storyID).Limit(1).Find(&doc).Error; err != nil {
		return nil, nil, err
	}
	if doc.ID == "" {
		return nil, nil, apperr.NotFound("That document does not exist.")
	}
	b, err := s.readObject(ctx, doc.StorageKey, 0)
	if err != nil {
		return nil, nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != doc.SHA256 {
		return nil, nil, apperr.New(http.StatusConflict, "The stored scan no longer matches the SHA-256 recorded with it.")
	}
	return &doc, b, s.audit.Record(ctx, nil, audit.Entry{Action: "consent.paper_download", ObjectType: "consent_paper_document", ObjectID: doc.ID,
		Details: map[string]any{"story_id": storyID, "kind": doc.Kind}})
}
