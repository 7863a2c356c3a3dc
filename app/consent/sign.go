package consent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// MaxSignatureBytes bounds a drawn signature image.
const MaxSignatureBytes = 200 * 1024

// SignInput is the patient's choices and signature.
type SignInput struct {
	Channels       []string
	MediaIDs       []string
	NameUsage      string
	ExpiresOn      string // YYYY-MM-DD
	EsignAgreed    bool
	TypedName      string
	SignatureData  string // data:image/png;base64,… from the drawing pad
	TypedSignature string // keyboard alternative to drawing
	IP, UserAgent  string
	// AuthSHA256 is the hash of the final authorization text the patient
	// was shown for the last confirmation (Final); Sign refuses when the
	// text it would record differs.
	AuthSHA256 string
	// EsignLanguage is the language the e-sign disclosure was shown in.
	EsignLanguage string
	// EsignSHA256, when given, is the hash of the e-sign disclosure shown;
	// Sign refuses (ErrFormChanged) when the one it would record differs
	// (the organisation's contact details changed meanwhile).
	EsignSHA256 string
	// FormLanguage is the language the signer reads the pages in: the
	// authorization signed is in it when the request has a form in it
	// (language.go); "" means the request's language.
	FormLanguage string
	// A representative attests their authority (RepAttested) and may add
	// a document showing it (at most MaxRepDocumentBytes, PDF/JPEG/PNG).
	RepAttested     bool
	RepDocument     []byte
	RepDocumentType string
	// A minor old enough may assent beside the representative's signature.
	AssentGiven bool
	AssentName  string
}

// ErrAlreadySigned answers a second submission of the same request.
var ErrAlreadySigned = apperr.New(http.StatusConflict, "This authorization has already been signed.")

// ErrStoryChanged tells the patient the story changed after the request was
// sent; the request is superseded and staff are told.
var ErrStoryChanged = apperr.New(http.StatusConflict, "The story changed after we sent this link.")

// Proposal is what r offered, for validating and showing choices.
type Proposal struct {
	Channels, MediaIDs []string
	NameUsage          string
	MaxExpiresOn       time.Time
}

// ProposalOf decodes what r asked the patient about.
func ProposalOf(r *models.ConsentRequest) Proposal {
	return Proposal{Channels: parseList(r.Channels), MediaIDs: parseList(r.MediaIDs), NameUsage: r.NameUsage, MaxExpiresOn: r.MaxExpiresOn}
}

// validateChoices checks the choices alone (the step before the final
// authorization is shown).
func (in *SignInput) validateChoices(p Proposal, lang string, today time.Time) (FieldErrors, time.Time) {
	fe := FieldErrors{}
	t := texts(lang)
	if len(in.Channels) == 0 {
		fe["channels"] = t["err_channels"]
	}
	for _, c := range in.Channels {
		if !slices.Contains(p.Channels, c) {
			fe["channels"] = t["err_channels"]
		}
	}
	for _, m := range in.MediaIDs {
		if !slices.Contains(p.MediaIDs, m) {
			fe["media"] = t["err_media"]
		}
	}
	if !slices.Contains(NameUsages, in.NameUsage) || slices.Index(NameUsages, in.NameUsage) > slices.Index(NameUsages, p.NameUsage) {
		fe["name_usage"] = t["err_name_usage"]
	}
	exp, err := time.Parse("2006-01-02", strings.TrimSpace(in.ExpiresOn))
	if err != nil || exp.After(p.MaxExpiresOn) || !exp.After(today) {
		fe["expires_on"] = t["err_expires"] + " " + FormatDate(lang, p.MaxExpiresOn) + "."
	}
	if len(fe) == 0 {
		return nil, exp
	}
	return fe, exp
}

func (in *SignInput) validate(p Proposal, lang string, today time.Time) (FieldErrors, time.Time) {
	fe, exp := in.validateChoices(p, lang, today)
	if fe == nil {
		fe = FieldErrors{}
	}
	t := texts(lang)
	if !in.EsignAgreed {
		fe["esign"] = t["err_esign"]
	}
	in.TypedName = strings.TrimSpace(in.TypedName)
	if in.TypedName == "" || utf8.RuneCountInString(in.TypedName) > 200 {
		fe["typed_name"] = t["err_name"]
	}
	in.TypedSignature = strings.TrimSpace(in.TypedSignature)
	if in.SignatureData == "" && in.TypedSignature == "" {
		fe["signature"] = t["err_signature"]
	} else if in.SignatureData != "" {
		if _, err := decodeSignature(in.SignatureData); err != nil {
			fe["signature"] = t["err_signature_bad"]
		}
	}
	if len(fe) == 0 {
		return nil, exp
	}
	return fe, exp
}

// decodeSignature accepts a PNG data URL of at most MaxSignatureBytes that
// really decodes as a PNG.
func decodeSignature(dataURL string) ([]byte, error) {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(dataURL, prefix) || len(dataURL) > len(prefix)+MaxSignatureBytes*4/3+4 {
		return nil, apperr.New(http.StatusUnprocessableEntity, "signature is not a PNG image")
	}
	b, err := base64.StdEncoding.DecodeString(dataURL[len(prefix):])
	if err != nil || len(b) > MaxSignatureBytes {
		return nil, apperr.New(http.StatusUnprocessableEntity, "signature is not a PNG image")
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		return nil, apperr.New(http.StatusUnprocessableEntity, "signature is not a PNG image")
	}
	return b, nil
}

// ErrFormChanged tells the patient the final authorization they confirmed
// is not the one that would be signed now (they changed a choice in another
// tab, or the form was changed); they are shown the new text to confirm.
var ErrFormChanged = apperr.New(http.StatusConflict, "The authorization changed; please read it again.")

// Final is the authorization with the patient's choices filled in: the text
// shown for the last confirmation and signed.
type Final struct {
	Text, SHA256 string
	ExpiresOn    time.Time
	Choices      FormData // the values printed (unquoted)
	Template     *models.ConsentTemplate
	Language     string // the language of Text (FormIn)
}

// Final validates the patient's choices (channels, media, name usage,
// expiry) and renders the request's form with them filled in: only the
// chosen channels and media, the chosen name usage and the end date. A form
// that would not show every required element is refused.
func (s *Service) Final(ctx context.Context, r *models.ConsentRequest, in SignInput) (*Final, error) {
	if r.Status != models.RequestVerified {
		return nil, s.unusable(r)
	}
	pd, err := s.patients.View(patientCtx(ctx, r.ID, in.IP), r.PatientID, "consent_final")
	if err != nil {
		return nil, err
	}
	return s.final(ctx, r, in, &pd.Patient)
}

func (s *Service) final(ctx context.Context, r *models.ConsentRequest, in SignInput, p *models.Patient) (*Final, error) {
	templateID, lang := formTemplate(r, in.FormLanguage)
	fe, exp := in.validateChoices(ProposalOf(r), lang, s.now())
	if fe != nil {
		return nil, fe
	}
	f, err := ParseFrozen(r.FrozenJSON)
	if err != nil {
		return nil, err
	}
	t, err := s.templates.Get(ctx, templateID)
	if err != nil {
		return nil, err
	}
	d := FormData{OrganisationName: s.cfg.OrganisationName, PatientName: p.FullName, StoryTitle: f.Title,
		NameUsage: NameUsageText(lang, in.NameUsage), ExpiresOn: FormatDate(lang, exp), RevokeURL: RevokeHowText(lang),
		Remuneration: RemunerationText(lang, s.cfg.OrganisationName, r.Sponsored, r.Sponsor), Sponsored: r.Sponsored}
	for _, k := range ProposalOf(r).Channels {
		if slices.Contains(in.Channels, k) {
			d.Channels = append(d.Channels, channels.LabelIn(lang, k))
		}
	}
	for _, m := range f.Media {
		if !slices.Contains(in.MediaIDs, m.ID) {
			continue
		}
		kind, label := "image", m.AltText
		if a, err := s.media.Get(ctx, m.ID); err == nil {
			kind = a.Kind
			if label == "" {
				label = a.FileName
			}
		}
		d.MediaList = append(d.MediaList, mediaKind(lang, kind)+": "+label)
	}
	if r.SignerKind == "representative" {
		d.Representative = representativeLine(repOf(r, p))
	}
	org, err := s.OrganisationProfile(ctx)
	if err != nil {
		return nil, err
	}
	withOrganisation(&d, org)
	text, err := renderChecked(t, d)
	if err != nil {
		return nil, err
	}
	return &Final{Text: text, SHA256: TextSHA256(text), ExpiresOn: exp, Choices: d, Template: t, Language: lang}, nil
}

// Sign records the patient's authorization. It checks the request is still
// open and verified, that the story still has the content sent (else the
// request is superseded), validates the choices, stores the signature image
// and then, in one transaction, writes the record, closes the request, moves
// the story to consented and queues the certificate.
func (s *Service) Sign(ctx context.Context, r *models.ConsentRequest, in SignInput) (*models.ConsentRecord, error) {
	ctx = patientCtx(ctx, r.ID, in.IP)
	if r.Status == models.RequestSigned {
		return nil, ErrAlreadySigned
	}
	if r.Status != models.RequestVerified {
		return nil, s.unusable(r)
	}
	now := s.now()
	_, formLang := formTemplate(r, in.FormLanguage)
	fe, exp := in.validate(ProposalOf(r), formLang, now)
	pd, err := s.patients.View(ctx, r.PatientID, "consent_sign")
	if err != nil {
		return nil, err
	}
	fe = s.checkSignerInput(&in, r, pd, formLang, fe)
	if fe != nil {
		return nil, fe
	}
	if err := s.checkUnchanged(ctx, r); err != nil {
		return nil, err
	}
	sig, typed := []byte(nil), in.SignatureData == ""
	if typed {
		sig, err = TypedSignaturePNG(in.TypedSignature)
	} else {
		sig, err = decodeSignature(in.SignatureData)
	}
	if err != nil {
		return nil, err
	}
	fin, err := s.final(ctx, r, in, &pd.Patient)
	if err != nil {
		return nil, err
	}
	org, err := s.OrganisationProfile(ctx)
	if err != nil {
		return nil, err
	}
	if !same(fin.SHA256, in.AuthSHA256) {
		return nil, ErrFormChanged
	}
	esignLang := in.EsignLanguage
	if _, ok := Languages[esignLang]; !ok {
		esignLang = r.Language
	}
	esignText := EsignDisclosureFor(esignLang, org)
	if in.EsignSHA256 != "" && !same(in.EsignSHA256, TextSHA256(esignText)) {
		return nil, ErrFormChanged
	}
	sum := sha256.Sum256(sig)
	rec := &models.ConsentRecord{ID: newID(), RequestID: r.ID, StoryID: r.StoryID, PatientID: r.PatientID, Digest: r.Digest, FrozenJSON: r.FrozenJSON,
		TemplateID: fin.Template.ID, TemplateVersion: fin.Template.Version, TemplateTextSHA256: fin.Template.TextSHA256, AuthorizationText: fin.Text,
		AuthorizationSHA256: fin.SHA256, EsignSHA256: TextSHA256(esignText), EsignLanguage: esignLang,
		EsignVersion: EsignDisclosureVersion, EsignText: esignText, SignerKind: r.SignerKind,
		Language: fin.Language, Channels: jsonList(in.Channels), MediaIDs: jsonList(dedupe(in.MediaIDs)), NameUsage: in.NameUsage, ExpiresOn: exp,
		SignerName: in.TypedName, SignatureSHA256: hex.EncodeToString(sum[:]), SignatureTyped: typed, EsignAgreed: true,
		IP: in.IP, UserAgent: truncate(in.UserAgent, 500), SentAt: r.SentAt, OpenedAt: r.OpenedAt, VerifiedAt: r.VerifiedAt, SignedAt: now,
		Status: models.RecordValid, CreatedAt: now}
	s.signerEvidence(rec, r, in, pd, formLang, now)
	if _, rec.ScopeDigest, err = SignedScope(rec); err != nil {
		return nil, err
	}
	rec.SignatureKey = "consents/" + rec.ID + "/signature.png"
	if _, err := s.store.Put(ctx, rec.SignatureKey, bytes.NewReader(sig), int64(len(sig)), "image/png"); err != nil {
		return nil, err
	}
	if err := s.storeRepDocument(ctx, rec, in); err != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), rec.SignatureKey)
		return nil, err
	}
	err = s.transitionWith(ctx, systemActor, r.StoryID, workflow.Consented, "The patient signed the consent.", func(tx *gorm.DB) error {
		q := tx.Model(&models.ConsentRequest{}).Where("id = ? AND status = ?", r.ID, models.RequestVerified).
			Updates(map[string]any{"status": models.RequestSigned, "completed_at": now, "updated_at": now})
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected == 0 {
			return ErrAlreadySigned
		}
		if err := tx.Create(rec).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.sign", ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"request_id": r.ID, "story_id": r.StoryID, "digest": r.Digest, "scope_digest": rec.ScopeDigest, "channels": in.Channels,
				"media": len(in.MediaIDs), "name_usage": in.NameUsage, "expires_on": exp.Format("2006-01-02"),
				"signature_typed": typed, "minor": rec.Minor, "representative": r.SignerKind == "representative",
				"assent": rec.AssentName != "", "rep_document": rec.RepDocumentKey != "", "sponsored": rec.Sponsored, "form_language": rec.Language}}); err != nil {
			return err
		}
		if err := s.notifyStaff(ctx, tx, r.StoryID, r.CreatedBy, NotifySigned); err != nil {
			return err
		}
		if err := s.AfterSigned(ctx, tx, rec, pd.Email); err != nil {
			return err
		}
		if _, err := s.jobs.Enqueue(ctx, tx, JobCertificate, certJob{RecordID: rec.ID}, jobs.Options{Key: JobCertificate + ":" + rec.ID}); err != nil {
			return err
		}
		// The signature and the frozen media become write-once only once
		// the record exists: a failed signing must still be able to remove
		// its signature image.
		return s.lockEvidence(ctx, tx, rec.ID, "signed")
	})
	if err != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), rec.SignatureKey)
		if rec.RepDocumentKey != "" {
			_ = s.store.Delete(context.WithoutCancel(ctx), rec.RepDocumentKey)
		}
		// A second submission racing the first loses at the story's
		// transition ("cannot move from Consented to Consented", or a
		// concurrent change) before the request update that says so: if
		// the request is signed now, that is the patient's answer.
		if cur, rerr := s.request(s.db.WithContext(context.WithoutCancel(ctx)), r.ID); rerr == nil && cur.Status == models.RequestSigned {
			r.Status = models.RequestSigned
			return nil, ErrAlreadySigned
		}
		return nil, err
	}
	r.Status = models.RequestSigned
	return rec, nil
}

// checkUnchanged recomputes the digest from the story as it is now; if it
// differs the request is superseded (audited, staff told) and ErrStoryChanged returned.
func (s *Service) checkUnchanged(ctx context.Context, r *models.ConsentRequest) error {
	p := ProposalOf(r)
	d, err := s.currentDigest(ctx, s.db, formatOf(r.FrozenJSON), r.StoryID, p.Channels, p.MediaIDs, p.NameUsage, r.TemplateID)
	if err != nil {
		return err
	}
	if d == r.Digest {
		return nil
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.setRequestStatus(tx, r, models.RequestSuperseded); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.request_superseded", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "reason": "content_changed"}}); err != nil {
			return err
		}
		return s.notifyStaff(ctx, tx, r.StoryID, r.CreatedBy, NotifySuperseded)
	})
	if err != nil {
		return err
	}
	return ErrStoryChanged
}

// Decline records the patient's "no", with an optional reason, and moves
// the story to consent declined.
func (s *Service) Decline(ctx context.Context, r *models.ConsentRequest, reason, ip string) error {
	ctx = patientCtx(ctx, r.ID, ip)
	if r.Status != models.RequestVerified {
		return s.unusable(r)
	}
	reason = truncate(strings.TrimSpace(reason), 1000)
	return s.transitionWith(ctx, systemActor, r.StoryID, workflow.ConsentDeclined, "The patient declined the consent.", func(tx *gorm.DB) error {
		now := s.now()
		q := tx.Model(&models.ConsentRequest{}).Where("id = ? AND status = ?", r.ID, models.RequestVerified).
			Updates(map[string]any{"status": models.RequestDeclined, "decline_reason": reason, "completed_at": now, "updated_at": now})
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected == 0 {
			return ErrLinkNotUsable
		}
		r.Status = models.RequestDeclined
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.decline", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "reason_given": reason != ""}}); err != nil {
			return err
		}
		return s.notifyStaff(ctx, tx, r.StoryID, r.CreatedBy, NotifyDeclined)
	})
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
