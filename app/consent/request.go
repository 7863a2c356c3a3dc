package consent

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// NameUsages orders name usage from least to most revealing.
var NameUsages = []string{"anonymous", "first_name", "full"}

// SendInput is what staff choose when asking for consent.
type SendInput struct {
	SignerKind string // patient or representative
	Channels   []string
	MediaIDs   []string
	NameUsage  string
	Language   string
	LinkDays   int
	// The representative the request is addressed to (SignerKind
	// representative); empty fields are taken from the patient record.
	RepName, RepRelationship, RepAuthority, RepEmail, RepPhone string
	// MinorException is staff's reason for letting a minor sign alone.
	MinorException string
	// Sponsored: someone pays for the disclosure; Sponsor names them.
	Sponsored bool
	Sponsor   string
}

// Sent is a request just sent, with the one copy of its link token that will
// ever exist outside the patient's email: the staff page shows it as a link
// and QR code for signing in person.
type Sent struct {
	Request *models.ConsentRequest
	Token   string
	Link    string
}

// ErrLinkNotUsable is the one answer for an unknown, expired or finished
// link, so a guessed token learns nothing an expired one would not.
var ErrLinkNotUsable = apperr.NotFound("This link cannot be used.")

func (in *SendInput) validate(st *models.Story, p *patients.Details, maxDays int, now time.Time, majority int) FieldErrors {
	fe := FieldErrors{}
	if in.SignerKind != "patient" && in.SignerKind != "representative" {
		fe["signer"] = "Choose who signs: the patient or their representative."
	} else {
		in.validateSigner(fe, p, now, majority)
	}
	if len(in.Channels) == 0 {
		fe["channels"] = "Choose at least one channel the patient is asked about."
	}
	for _, c := range in.Channels {
		if !slices.Contains(st.Channels, c) {
			fe["channels"] = "Choose only channels the story is meant for."
		}
	}
	if !slices.Contains(NameUsages, in.NameUsage) {
		fe["name_usage"] = "Choose how the patient's name is used."
	}
	if _, ok := Languages[in.Language]; !ok {
		fe["language"] = "Choose English or Spanish."
	}
	if in.LinkDays < 1 || in.LinkDays > maxDays {
		fe["link_days"] = "The link can last from 1 to " + strconv.Itoa(maxDays) + " days."
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Send freezes the story's content as it is now, renders the form in the
// chosen language, creates the request with a fresh link and moves the story
// to awaiting consent, all in one transaction; the invitation email and the
// reminders are queued in that transaction too.
func (s *Service) Send(ctx context.Context, a workflow.Actor, storyID string, in SendInput) (*Sent, error) {
	st, err := s.Stories.Get(ctx, storyID)
	if err != nil {
		return nil, err
	}
	stage := workflow.Stage(st.Stage)
	if stage != workflow.Drafting && stage != workflow.AwaitingConsent {
		return nil, apperr.New(http.StatusConflict, "Consent can be asked for only while the story is in drafting; it is "+stage.Label()+".")
	}
	if stage == workflow.AwaitingConsent {
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.ConsentRequest{}).Where("story_id = ? AND status IN ?", storyID, liveRequest).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, apperr.New(http.StatusConflict, "A consent request is already waiting for the patient. Resend or cancel it instead.")
		}
	}
	pd, err := s.patients.View(ctx, st.PatientID, "consent_request")
	if err != nil {
		return nil, err
	}
	in.Channels, in.MediaIDs = orderedChannels(in.Channels), dedupe(in.MediaIDs)
	if fe := in.validate(st, pd, s.cfg.LinkDays, s.now(), s.AgeOfMajority()); fe != nil {
		return nil, fe
	}
	signerEmail := pd.Email
	if in.SignerKind == "representative" {
		signerEmail = in.RepEmail
	}
	if pd.DOB == "" && signerEmail == "" {
		return nil, apperr.New(http.StatusConflict, "The patient record has neither a date of birth nor an email address for the signer, so the signer cannot prove who they are. Add one first.")
	}
	org, err := s.requireOrganisation(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.templates.Active(ctx, in.Language)
	if err != nil {
		return nil, err
	}
	// A patient who withdrew consent to electronic records gets no email:
	// staff print the form (PaperOnly, paper.go).
	paperOnly, err := s.PaperOnly(ctx, st.PatientID)
	if err != nil {
		return nil, err
	}
	f, media, err := s.freeze(ctx, st, in.Channels, in.MediaIDs, in.NameUsage, t)
	if err != nil {
		return nil, FieldErrors{"media": "Choose only media items of this story."}
	}
	canonical, digest := Digest(f)
	now := s.now()
	maxExp := s.maxExpiry(now)
	token, hash := NewToken()
	// The revocation link is a credential: it is issued only when the
	// patient signs and reaches only them (revoketoken.go), never the form
	// text, which staff, the certificate and the export see (finding F5).
	fd := s.formData(in, st, &pd.Patient, media, maxExp)
	withOrganisation(&fd, org)
	text, err := renderChecked(t, fd)
	if err != nil {
		return nil, err
	}
	r := &models.ConsentRequest{ID: newID(), StoryID: st.ID, PatientID: st.PatientID, StoryRevision: st.Revision, SignerKind: in.SignerKind,
		Language: in.Language, TemplateID: t.ID, TemplateVersion: t.Version, TemplateTextSHA256: t.TextSHA256,
		AuthorizationText: text, AuthorizationSHA256: TextSHA256(text), FrozenJSON: string(canonical), Digest: digest,
		Channels: jsonList(in.Channels), MediaIDs: jsonList(in.MediaIDs), NameUsage: in.NameUsage, MaxExpiresOn: maxExp,
		TokenHash: hash, Status: models.RequestPending,
		ExpiresAt: now.AddDate(0, 0, in.LinkDays), SentAt: now, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now,
		RepName: in.RepName, RepRelationship: in.RepRelationship, RepAuthority: in.RepAuthority, MinorException: in.MinorException,
		Sponsored: in.Sponsored, Sponsor: in.Sponsor}
	if err := s.sealRep(r, in.RepEmail, in.RepPhone); err != nil {
		return nil, err
	}
	r.AltTemplateID, r.AltAuthorizationText = s.alternateForm(ctx, in, st, &pd.Patient, media, maxExp, org)
	create := func(tx *gorm.DB) error {
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.request", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": st.ID, "revision": st.Revision, "digest": digest, "language": in.Language,
				"signer": in.SignerKind, "channels": in.Channels, "media": len(in.MediaIDs), "template_version": t.Version}}); err != nil {
			return err
		}
		if err := s.auditSigner(ctx, tx, r); err != nil {
			return err
		}
		return s.queueInvitation(ctx, tx, r, token, signerEmail != "" && !paperOnly)
	}
	if stage == workflow.Drafting {
		err = s.transitionWith(ctx, a, st.ID, workflow.AwaitingConsent, "Consent requested from the patient.", create)
	} else {
		err = s.db.WithContext(ctx).Transaction(create)
	}
	if err != nil {
		return nil, err
	}
	return &Sent{Request: r, Token: token, Link: s.link(token)}, nil
}

func (s *Service) link(token string) string { return s.cfg.PublicURL + "/c/" + token }

// maxExpiry is the organisation's latest expiration, counted from now.
func (s *Service) maxExpiry(now time.Time) time.Time {
	d := now.AddDate(s.cfg.MaxYears, 0, 0)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Service) formData(in SendInput, st *models.Story, p *models.Patient, media []models.MediaAsset, maxExp time.Time) FormData {
	d := FormData{OrganisationName: s.cfg.OrganisationName, PatientName: p.FullName, StoryTitle: st.Title,
		NameUsage: NameUsageText(in.Language, in.NameUsage), RevokeURL: RevokeHowText(in.Language),
		Remuneration: RemunerationText(in.Language, s.cfg.OrganisationName, in.Sponsored, in.Sponsor), Sponsored: in.Sponsored}
	for _, k := range in.Channels {
		d.Channels = append(d.Channels, channels.LabelIn(in.Language, k))
	}
	for _, m := range media {
		label := m.AltText
		if label == "" {
			label = m.FileName
		}
		d.MediaList = append(d.MediaList, mediaKind(in.Language, m.Kind)+": "+label)
	}
	if in.Language == "es" {
		d.ExpiresOn = "día que usted elija en este formulario (a más tardar, el " + FormatDate("es", maxExp) + ")"
	} else {
		d.ExpiresOn = "the date you choose on this form (at the latest, " + FormatDate("en", maxExp) + ")"
	}
	if in.SignerKind == "representative" {
		d.Representative = representativeLine(in.RepName, in.RepRelationship, in.RepAuthority)
	}
	return d
}

func mediaKind(lang, kind string) string {
	es := map[string]string{"image": "Foto", "video": "Vídeo", "audio": "Grabación"}
	en := map[string]string{"image": "Photo", "video": "Video", "audio": "Recording"}
	m := en
	if lang == "es" {
		m = es
	}
	if v, ok := m[kind]; ok {
		return v
	}
	return m["image"]
}

// queueInvitation queues the invitation and the reminders. The token rides
// in the job sealed with the data key, so the jobs table does not hand out
// working links either.
func (s *Service) queueInvitation(ctx context.Context, tx *gorm.DB, r *models.ConsentRequest, token string, hasEmail bool) error {
	if !hasEmail {
		return nil // in-person signing only
	}
	sealed, err := s.keys.Seal(token, "consent-token:"+r.ID)
	if err != nil {
		return err
	}
	if err := s.enqueueMail(ctx, tx, mailJob{RequestID: r.ID, Kind: "invite", Token: sealed}, time.Time{}); err != nil {
		return err
	}
	for _, d := range s.cfg.ReminderDays {
		at := r.SentAt.AddDate(0, 0, d)
		if at.Before(r.ExpiresAt) {
			if err := s.enqueueMail(ctx, tx, mailJob{RequestID: r.ID, Kind: "reminder", Token: sealed}, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// Resend gives a waiting request a new link (the old one stops working),
// restarts its expiry and emails it again.
func (s *Service) Resend(ctx context.Context, storyID, requestID string) (*Sent, error) {
	token, hash := NewToken()
	// The patient's details are read (and that view audited) before the
	// transaction: on SQLite's single connection a second transaction
	// opened inside this one would wait for it forever.
	cur, err := s.request(s.db.WithContext(ctx), requestID)
	if err != nil {
		return nil, err
	}
	addr, err := s.signerAddress(ctx, cur, "consent_resend")
	if err != nil {
		return nil, err
	}
	var r *models.ConsentRequest
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if r, err = s.request(tx, requestID); err != nil {
			return err
		}
		if r.StoryID != storyID || !isLive(r.Status) {
			return apperr.New(http.StatusConflict, "Only a request still waiting for the patient can be sent again.")
		}
		now := s.now()
		days := int(r.ExpiresAt.Sub(r.SentAt).Hours()/24 + 0.5)
		r.TokenHash, r.SentAt, r.ExpiresAt, r.UpdatedAt = hash, now, now.AddDate(0, 0, max(days, 1)), now
		if err := tx.Model(r).Updates(map[string]any{"token_hash": hash, "sent_at": now, "expires_at": r.ExpiresAt, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.resend", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID}}); err != nil {
			return err
		}
		return s.queueInvitation(ctx, tx, r, token, addr != "")
	})
	if err != nil {
		return nil, err
	}
	return &Sent{Request: r, Token: token, Link: s.link(token)}, nil
}

// Cancel withdraws a waiting request: its link stops working at once.
func (s *Service) Cancel(ctx context.Context, storyID, requestID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := s.request(tx, requestID)
		if err != nil {
			return err
		}
		if r.StoryID != storyID || !isLive(r.Status) && r.Status != models.RequestLocked {
			return apperr.New(http.StatusConflict, "Only a request still waiting for the patient can be cancelled.")
		}
		if err := s.setRequestStatus(tx, r, models.RequestCancelled); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.cancel", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID}})
	})
}

func (s *Service) setRequestStatus(tx *gorm.DB, r *models.ConsentRequest, status string) error {
	now := s.now()
	r.Status, r.UpdatedAt = status, now
	upd := map[string]any{"status": status, "updated_at": now}
	if status != models.RequestLocked {
		r.CompletedAt = &now
		upd["completed_at"] = now
	}
	return tx.Model(&models.ConsentRequest{}).Where("id = ?", r.ID).Updates(upd).Error
}

// Requests lists a story's requests, newest first.
func (s *Service) Requests(ctx context.Context, storyID string) ([]models.ConsentRequest, error) {
	var out []models.ConsentRequest
	err := s.db.WithContext(ctx).Where("story_id = ?", storyID).Order("created_at DESC, id DESC").Find(&out).Error
	return out, err
}

// Records lists a story's consent records, newest first.
func (s *Service) Records(ctx context.Context, storyID string) ([]models.ConsentRecord, error) {
	var out []models.ConsentRecord
	err := s.db.WithContext(ctx).Where("story_id = ?", storyID).Order("signed_at DESC, id DESC").Find(&out).Error
	return out, err
}

// Record returns one consent record.
func (s *Service) Record(ctx context.Context, id string) (*models.ConsentRecord, error) {
	var rec models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rec).Error; err != nil {
		return nil, err
	}
	if rec.ID == "" {
		return nil, apperr.NotFound("That consent record does not exist.")
	}
	return &rec, nil
}

func orderedChannels(keys []string) []string {
	out := []string{}
	for _, c := range channels.All {
		if slices.Contains(keys, c.Key) {
			out = append(out, c.Key)
		}
	}
	for _, k := range keys {
		if _, ok := channels.Get(k); !ok {
			out = append(out, k) // unknown: kept so validation can refuse it
		}
	}
	return out
}

func dedupe(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
