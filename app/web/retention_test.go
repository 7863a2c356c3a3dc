package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/interviews"
	"github.com/storykeep/storykeep/app/retention"
	"github.com/storykeep/storykeep/models"
)

// retentionEnv is a story with a photo that a consent record (revoked
// `ended` ago) and its request refer to, and the record's signature image in
// the store. Dates are set in the database; the retention service's clock
// moves past them.
type retentionEnv struct {
	env                     *apptest.Env
	staff                   *apptest.Client
	story, patient, asset   string
	record, request, sigKey string
	endedAt                 time.Time
}

func newRetentionEnv(t *testing.T, status string, ended time.Duration) *retentionEnv {
	t.Helper()
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	patient := addPatient(env, u.ID, "Maria Elena Lopez")
	story := createStory(t, c, storyForm(patient, u.ID, "Maria Lopez walks again"))
	asset := addPhoto(t, env, story, u.ID, "Maria Lopez in the garden")
	var tpl models.ConsentTemplate
	if err := env.App.DB.Order("id").First(&tpl).Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	signed, endedAt := now.Add(-ended-24*time.Hour), now.Add(-ended)
	media := `["` + asset + `"]`
	req := models.ConsentRequest{ID: uuid.Must(uuid.NewV7()).String(), StoryID: story, PatientID: patient, StoryRevision: 1, SignerKind: "patient",
		Language: "en", TemplateID: tpl.ID, TemplateVersion: tpl.Version, TemplateTextSHA256: strings.Repeat("b", 64), AuthorizationText: "I agree.",
		AuthorizationSHA256: strings.Repeat("c", 64), FrozenJSON: "{}", Digest: strings.Repeat("d", 64), Channels: `["website"]`, MediaIDs: media,
		NameUsage: "first_name", MaxExpiresOn: now.AddDate(2, 0, 0), TokenHash: uuid.NewString(), RevokeTokenHash: uuid.NewString(),
		Status: models.RequestSigned, ExpiresAt: signed.Add(time.Hour), SentAt: signed, CompletedAt: &signed, CreatedBy: u.ID, CreatedAt: signed, UpdatedAt: signed}
	if err := env.App.DB.Create(&req).Error; err != nil {
		t.Fatal(err)
	}
	sigKey := "consent/signatures/" + req.ID + ".png"
	if _, err := env.App.Store.Put(context.Background(), sigKey, strings.NewReader("png"), 3, "image/png"); err != nil {
		t.Fatal(err)
	}
	rec := models.ConsentRecord{ID: uuid.Must(uuid.NewV7()).String(), RequestID: req.ID, StoryID: story, PatientID: patient, Digest: req.Digest,
		FrozenJSON: "{}", TemplateID: tpl.ID, TemplateVersion: tpl.Version, TemplateTextSHA256: req.TemplateTextSHA256, AuthorizationText: "I agree.",
		Language: "en", Channels: `["website"]`, MediaIDs: media, NameUsage: "first_name", ExpiresOn: now.AddDate(1, 0, 0), SignerName: "Maria Elena Lopez",
		SignatureKey: sigKey, SignatureSHA256: strings.Repeat("e", 64), EsignAgreed: true, IP: "192.0.2.1", UserAgent: "test", SentAt: signed, SignedAt: signed,
		RevokeTokenHash: req.RevokeTokenHash, Status: status, EndedAt: &endedAt, CreatedAt: signed}
	if status == models.RecordRevoked {
		rec.RevokedAt = &endedAt
	}
	if err := env.App.DB.Create(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if err := env.App.DB.Create(&models.ConsentRevokeToken{TokenHash: rec.RevokeTokenHash, RecordID: rec.ID, IssuedFor: "email", CreatedAt: signed}).Error; err != nil {
		t.Fatal(err)
	}
	return &retentionEnv{env: env, staff: c, story: story, patient: patient, asset: asset, record: rec.ID, request: req.ID, sigKey: sigKey, endedAt: endedAt}
}

func (e *retentionEnv) count(t *testing.T, m any, id string) int64 {
	t.Helper()
	var n int64
	if err := e.env.App.DB.Model(m).Where("id = ?", id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *retentionEnv) audited(t *testing.T, action, objectID string) bool {
	t.Helper()
	var n int64
	if err := e.env.App.DB.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", action, objectID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestF15RevokedConsentPhotoKeptForRetention: a photo that only a revoked
// (or superseded) consent refers to cannot be deleted within retention,
// and the refusal names the date it may go (finding 15).
func TestF15RevokedConsentPhotoKeptForRetention(t *testing.T) {
	for _, status := range []string{models.RecordRevoked, models.RecordSuperseded} {
		t.Run(status, func(t *testing.T) {
			e := newRetentionEnv(t, status, 24*time.Hour)
			if b, err := e.env.App.Consent.Bound(context.Background(), e.asset); err != nil || !b {
				t.Fatalf("consent.Bound on a %s record = %v, %v; want bound", status, b, err)
			}
			res := e.staff.Post("/media/"+e.asset+"/delete", nil).Expect(http.StatusConflict)
			may := e.endedAt.AddDate(retention.DefaultYears, 0, 0).Format("2 January 2006")
			res.Contains("must be kept for 6 years after the consent ended. It may be deleted from " + may + ".")
			if e.count(t, &models.MediaAsset{}, e.asset) != 1 {
				t.Fatal("the photo was deleted within retention")
			}
		})
	}
}

// TestRetentionPurgeAfterRetentionIsAudited: past retention the daily job
// lists the evidence without deleting it, and a purge deletes the photo,
// the record with its signature image and the request, each audited.
func TestRetentionPurgeAfterRetentionIsAudited(t *testing.T) {
	e := newRetentionEnv(t, models.RecordRevoked, 24*time.Hour)
	ctx := audit.WithActor(context.Background(), audit.System)
	// The written revocation's scanned letter goes with the record.
	scan := models.ConsentPaperDocument{ID: uuid.Must(uuid.NewV7()).String(), Kind: models.PaperRevocation, PatientID: e.patient, StoryID: e.story,
		RecordID: e.record, StorageKey: "consents/paper/letter.pdf", SHA256: strings.Repeat("f", 64), ContentType: "application/pdf",
		DatedOn: e.endedAt, RecordedBy: "x", CreatedAt: e.endedAt}
	if err := e.env.App.DB.Create(&scan).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.env.App.Store.Put(ctx, scan.StorageKey, strings.NewReader("%PDF-"), 5, "application/pdf"); err != nil {
		t.Fatal(err)
	}
	r := e.env.App.Retention
	if rep, err := r.Due(ctx); err != nil || len(rep.Due)+len(rep.Held) != 0 {
		t.Fatalf("within retention Due = %+v, %v; want nothing", rep, err)
	}
	if p, err := r.Purge(ctx); err != nil || len(p.Items) != 0 {
		t.Fatalf("purge within retention = %+v, %v; want nothing purged", p, err)
	}
	later := e.endedAt.AddDate(6, 0, 1)
	r.SetClock(func() time.Time { return later })
	if err := r.HandleReport(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if e.count(t, &models.MediaAsset{}, e.asset) != 1 || !e.audited(t, "retention.due", later.Format(time.DateOnly)) {
		t.Fatal("the daily report deleted the photo or recorded no list")
	}
	rep, err := r.Due(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, it := range rep.Due {
		kinds = append(kinds, it.Kind+":"+it.ID)
	}
	want := []string{"media:" + e.asset, "consent_record:" + e.record, "consent_request:" + e.request}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("due = %v, want %v", kinds, want)
	}
	p, err := r.Purge(ctx)
	if err != nil || len(p.Items) != 3 {
		t.Fatalf("purge = %+v, %v", p, err)
	}
	if e.count(t, &models.MediaAsset{}, e.asset)+e.count(t, &models.ConsentRecord{}, e.record)+e.count(t, &models.ConsentRequest{}, e.request) != 0 {
		t.Fatal("purge left rows behind")
	}
	var links int64
	e.env.App.DB.Model(&models.ConsentRevokeToken{}).Where("record_id = ?", e.record).Count(&links)
	if links != 0 {
		t.Fatal("purge left the record's revocation link hashes behind")
	}
	if _, err := e.env.App.Store.Stat(ctx, e.sigKey); err == nil {
		t.Fatal("the signature image survived the purge")
	}
	if _, err := e.env.App.Store.Stat(ctx, scan.StorageKey); err == nil || e.count(t, &models.ConsentPaperDocument{}, scan.ID) != 0 {
		t.Fatal("the record's scanned paper survived the purge")
	}
	for _, id := range []string{e.asset, e.record, e.request} {
		if !e.audited(t, "retention.purge", id) {
			t.Fatalf("purge of %s not audited", id)
		}
	}
}

// TestLegalHoldBlocksPurgeAndDelete: a hold on the patient keeps evidence
// past retention from a purge and from deletion; lifting it (audited)
// lets the purge go ahead. A hold on the story blocks deleting a photo no
// consent refers to.
func TestLegalHoldBlocksPurgeAndDelete(t *testing.T) {
	e := newRetentionEnv(t, models.RecordRevoked, 24*time.Hour)
	_, admin := e.env.SignedIn(models.RoleAdmin)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: admin.ID, Label: "admin"})
	r := e.env.App.Retention
	if _, err := r.SetHold(ctx, models.HoldPatient, e.patient, " "); err == nil {
		t.Fatal("a hold without a reason was accepted")
	}
	h, err := r.SetHold(ctx, models.HoldPatient, e.patient, "Matter 2026-117")
	if err != nil {
		t.Fatal(err)
	}
	r.SetClock(func() time.Time { return e.endedAt.AddDate(7, 0, 0) })
	p, err := r.Purge(ctx)
	if err != nil || len(p.Items) != 0 || p.Held != 3 {
		t.Fatalf("purge under hold = %+v, %v; want nothing purged, 3 held", p, err)
	}
	e.staff.Post("/media/"+e.asset+"/delete", nil).Expect(http.StatusConflict).Contains("under a legal hold")
	if e.count(t, &models.MediaAsset{}, e.asset) != 1 {
		t.Fatal("the held photo was deleted")
	}
	if err := r.LiftHold(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if !e.audited(t, "legal_hold.set", e.patient) || !e.audited(t, "legal_hold.lift", e.patient) {
		t.Fatal("setting or lifting the hold was not audited")
	}
	if p, err := r.Purge(ctx); err != nil || len(p.Items) != 3 {
		t.Fatalf("purge after lifting = %+v, %v", p, err)
	}

	free := addPhoto(t, e.env, e.story, admin.ID, "Garden")
	sh, err := r.SetHold(ctx, models.HoldStory, e.story, "Matter 2026-118")
	if err != nil {
		t.Fatal(err)
	}
	e.staff.Post("/media/"+free+"/delete", nil).Expect(http.StatusConflict).Contains("under a legal hold")
	if err := r.LiftHold(ctx, sh.ID); err != nil {
		t.Fatal(err)
	}
	e.staff.Post("/media/"+free+"/delete", nil).Expect(http.StatusSeeOther)

	// An interview recording is the patient's: a patient hold keeps it.
	iv, err := e.env.App.Interviews.Schedule(ctx, e.patient, interviews.Input{InterviewerID: admin.ID, ScheduledAt: "2026-03-14T10:30", Location: "Room 4"})
	if err != nil {
		t.Fatal(err)
	}
	rec := addPhoto(t, e.env, e.story, admin.ID, "Recording")
	if err := e.env.App.DB.Model(&models.MediaAsset{}).Where("id = ?", rec).Updates(map[string]any{"owner_type": models.OwnerInterview, "owner_id": iv.ID}).Error; err != nil {
		t.Fatal(err)
	}
	ph, err := r.SetHold(ctx, models.HoldPatient, e.patient, "Matter 2026-119")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.env.App.Media.Delete(ctx, rec); err == nil || !strings.Contains(err.Error(), "legal hold") {
		t.Fatalf("deleting a held patient's interview recording: %v", err)
	}
	if err := r.LiftHold(ctx, ph.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.env.App.Media.Delete(ctx, rec); err != nil {
		t.Fatal(err)
	}
}
