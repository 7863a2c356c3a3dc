package consent

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Allowed answers whether publishing the story on channel, with the given
// media and name usage, is covered by a valid consent whose digest still
// matches the story's current content. Export and publishing call it before
// every disclosure; reason says plainly why not.
func (s *Service) Allowed(ctx context.Context, storyID, channel string, mediaIDs []string, nameUsage string) (bool, string, error) {
	rec, reason, err := s.validRecord(ctx, storyID)
	if err != nil || rec == nil {
		return false, reason, err
	}
	if !slices.Contains(parseList(rec.Channels), channel) {
		return false, "The patient did not consent to publishing on " + channels.Label(channel) + ".", nil
	}
	chosen := parseList(rec.MediaIDs)
	for _, m := range mediaIDs {
		if !slices.Contains(chosen, m) {
			return false, "The patient did not consent to one of the media items (" + m + ").", nil
		}
	}
	if want, have := slices.Index(NameUsages, nameUsage), slices.Index(NameUsages, rec.NameUsage); want < 0 || want > have {
		return false, "The patient consented to name usage \"" + rec.NameUsage + "\" only.", nil
	}
	return true, "", nil
}

// validRecord returns the story's newest valid record if its digest still
// matches the current content; otherwise nil and why.
func (s *Service) validRecord(ctx context.Context, storyID string) (*models.ConsentRecord, string, error) {
	var rec models.ConsentRecord
	err := s.read.WithContext(ctx).Where("story_id = ? AND status = ? AND expires_on > ?", storyID, models.RecordValid, s.now()).
		Order("signed_at DESC").Limit(1).Find(&rec).Error
	if err != nil {
		return nil, "", err
	}
	if rec.ID == "" {
		return nil, "No signed consent is recorded for this story yet, or the last one has ended, so it cannot be approved. Ask the patient for consent from the story's consent page.", nil
	}
	var req models.ConsentRequest
	if err := s.read.WithContext(ctx).Where("id = ?", rec.RequestID).Take(&req).Error; err != nil {
		return nil, "", err
	}
	p := ProposalOf(&req)
	d, err := s.currentDigest(ctx, s.read, formatOf(rec.FrozenJSON), storyID, p.Channels, p.MediaIDs, p.NameUsage, rec.TemplateID)
	if err != nil {
		return nil, "", err
	}
	if d != rec.Digest {
		return nil, "The story's content changed since the patient signed; a new consent is needed.", nil
	}
	return &rec, "", nil
}

// Covers implements workflow.ConsentChecker: approval needs a valid consent
// matching the current content that includes every channel of the story.
func (s *Service) Covers(ctx context.Context, storyID string, _ int, chans []string) (bool, string, error) {
	for _, c := range chans {
		ok, reason, err := s.Allowed(ctx, storyID, c, nil, "anonymous")
		if err != nil || !ok {
			return false, reason, err
		}
	}
	if len(chans) == 0 {
		_, reason, err := s.validRecord(ctx, storyID)
		return reason == "", reason, err
	}
	return true, "", nil
}

// ConsentSuperseded implements workflow.Hooks: covered content changed, so
// waiting requests and valid records of the story are superseded, in the
// caller's transaction, audited, and staff are told.
func (s *Service) ConsentSuperseded(ctx context.Context, tx *gorm.DB, ev workflow.ConsentSuperseded) error {
	now := s.now()
	var reqs []models.ConsentRequest
	if err := tx.Where("story_id = ? AND status IN ?", ev.StoryID, append(slices.Clone(liveRequest), models.RequestLocked)).Find(&reqs).Error; err != nil {
		return err
	}
	for _, r := range reqs {
		if err := tx.Model(&models.ConsentRequest{}).Where("id = ?", r.ID).
			Updates(map[string]any{"status": models.RequestSuperseded, "completed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.request_superseded", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": ev.StoryID, "old_revision": ev.OldRevision, "new_revision": ev.NewRevision}}); err != nil {
			return err
		}
	}
	var recs []models.ConsentRecord
	if err := tx.Where("story_id = ? AND status = ?", ev.StoryID, models.RecordValid).Find(&recs).Error; err != nil {
		return err
	}
	for _, rec := range recs {
		if err := tx.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).
			Updates(map[string]any{"status": models.RecordSuperseded, "ended_at": now}).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.superseded", ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"story_id": ev.StoryID, "old_revision": ev.OldRevision, "new_revision": ev.NewRevision}}); err != nil {
			return err
		}
		if err := s.lockEvidence(ctx, tx, rec.ID, models.RecordSuperseded); err != nil {
			return err
		}
		if err := s.NotifyPatient(ctx, tx, &rec, NoticeSuperseded, 0); err != nil {
			return err
		}
	}
	if len(reqs)+len(recs) == 0 {
		return nil
	}
	return s.notifyStaff(ctx, tx, ev.StoryID, ev.ActorID, NotifySuperseded)
}

// Bound implements assets.Binder: a media item that any consent record or
// request refers to, whatever its status (valid, revoked, expired,
// superseded, declined), is evidence of what the patient was asked and
// cannot be deleted (finding 15: only valid records used to count). The
// app's binder is retention.Service, which lets such an item go once the
// retention period after its consents ended has passed.
func (s *Service) Bound(ctx context.Context, assetID string) (bool, error) {
	for _, m := range []any{&models.ConsentRecord{}, &models.ConsentRequest{}} {
		var lists []string
		if err := s.db.WithContext(ctx).Model(m).Where("media_ids LIKE ?", "%"+assetID+"%").Pluck("media_ids", &lists).Error; err != nil {
			return false, err
		}
		for _, l := range lists {
			if slices.Contains(parseList(l), assetID) {
				return true, nil
			}
		}
	}
	return false, nil
}

// NameUsage is the name usage the story's valid consent allows (full,
// first_name or anonymous), or "" when no valid consent covers the story's
// current content. The public website asks it on every request.
func (s *Service) NameUsage(ctx context.Context, storyID string) (string, error) {
	rec, _, err := s.validRecord(ctx, storyID)
	if err != nil || rec == nil {
		return "", err
	}
	return rec.NameUsage, nil
}

// Scope is what the patient's current, valid consent allows, as the legal
// reviewer sees it.
type Scope struct {
	Record    *models.ConsentRecord
	Channels  []string // consented channel keys
	MediaIDs  []string // consented media asset ids
	NameUsage string
}

// CurrentScope returns the scope of story id's valid consent matching its
// current content, or nil and why there is none.
func (s *Service) CurrentScope(ctx context.Context, storyID string) (*Scope, string, error) {
	rec, reason, err := s.validRecord(ctx, storyID)
	if err != nil || rec == nil {
		return nil, reason, err
	}
	return &Scope{Record: rec, Channels: parseList(rec.Channels), MediaIDs: parseList(rec.MediaIDs), NameUsage: rec.NameUsage}, "", nil
}

// AnswersFromDatabase implements disclosure.DatabaseGate: Allowed and
// NameUsage read the records, requests, story, media and template rows and
// compare expiry with the clock, nothing else (the real clock: a test that
// moved it gets no cache).
func (s *Service) AnswersFromDatabase() bool { return !s.clockSet }
