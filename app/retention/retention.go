// Package retention keeps consent evidence for the retention period after
// each consent ends (HIPAA 164.530(j): six years), honours legal holds, and
// lets an administrator purge what has passed retention (issue 24).
//
// Evidence is every consent record and request, the signature image and
// certificate of a record, and every media asset a record or request refers
// to, whatever the record's status. A record's retention runs from its end
// (ended_at: expiry, revocation or supersede); a request that never became
// a record runs from its completion (decline, supersede, cancel, expiry).
// Nothing is deleted automatically: a daily job lists what is due and an
// administrator purges it with `storykeep retention purge`.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// DefaultYears is the retention period when none is configured.
const DefaultYears = 6

// Kinds of evidence.
const (
	KindMedia   = "media"
	KindRecord  = "consent_record"
	KindRequest = "consent_request"
)

// Item is one piece of evidence and how long it is kept.
type Item struct {
	Kind      string
	ID        string
	StoryID   string
	PatientID string
	// Open is true while a consent it belongs to has not ended: it is kept
	// until that end plus the retention period, a date not known yet.
	Open  bool
	Until time.Time // the first day it may be deleted, when not Open
	Held  bool      // under a legal hold
}

// Report is what has passed retention: Due may be purged; Held has passed
// retention but a legal hold keeps it.
type Report struct {
	Due  []Item
	Held []Item
}

// Service answers retention questions, holds and purges.
type Service struct {
	db    *gorm.DB
	audit *audit.Log
	store storage.Store
	media *assets.Service
	years int
	jobs  *jobs.Queue
	log   *slog.Logger
	now   func() time.Time
}

// New returns the service; years <= 0 means DefaultYears. media deletes
// assets in a purge (its Binder should be this service).
func New(db *gorm.DB, log *audit.Log, store storage.Store, media *assets.Service, years int) *Service {
	if years <= 0 {
		years = DefaultYears
	}
	return &Service{db: db, audit: log, store: store, media: media, years: years, log: slog.Default(),
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Years is the retention period in years.
func (s *Service) Years() int { return s.years }

// SetClock replaces the clock, so tests can move past retention. A store
// that compares retention dates with a clock of its own (local disk) is
// moved with it.
func (s *Service) SetClock(now func() time.Time) {
	s.now = now
	if c, ok := s.store.(interface{ SetClock(func() time.Time) }); ok {
		c.SetClock(now)
	}
}

// SetLogger sets where the daily job reports (ids and counts only).
func (s *Service) SetLogger(l *slog.Logger) { s.log = l }

func (s *Service) until(end time.Time) time.Time {
	return end.UTC().AddDate(s.years, 0, 0)
}

func parseList(v string) []string {
	var out []string
	_ = json.Unmarshal([]byte(v), &out)
	return out
}

// live request statuses: the request has not ended.
var liveRequest = []string{models.RequestPending, models.RequestOpened, models.RequestVerified, models.RequestLocked}

// consent evidence, loaded once per question.
type evidence struct {
	records  []models.ConsentRecord
	requests []models.ConsentRequest
	recByReq map[string]*models.ConsentRecord
}

func (s *Service) load(ctx context.Context, db *gorm.DB, where string, args ...any) (*evidence, error) {
	ev := &evidence{recByReq: map[string]*models.ConsentRecord{}}
	q := db.WithContext(ctx)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Find(&ev.records).Error; err != nil {
		return nil, err
	}
	q = db.WithContext(ctx)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Find(&ev.requests).Error; err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ev.requests))
	for _, r := range ev.requests {
		ids = append(ids, r.ID)
	}
	// A signed request's retention is its record's, which the filter above
	// may not have matched (the record's media list can be narrower).
	for chunk := range slices.Chunk(ids, 500) {
		var recs []models.ConsentRecord
		if err := db.WithContext(ctx).Where("request_id IN ?", chunk).Find(&recs).Error; err != nil {
			return nil, err
		}
		for i := range recs {
			ev.recByReq[recs[i].RequestID] = &recs[i]
		}
	}
	return ev, nil
}

func (s *Service) recordItem(r *models.ConsentRecord) Item {
	it := Item{Kind: KindRecord, ID: r.ID, StoryID: r.StoryID, PatientID: r.PatientID}
	if r.EndedAt == nil {
		it.Open = true
	} else {
		it.Until = s.until(*r.EndedAt)
	}
	return it
}

func (s *Service) requestItem(r *models.ConsentRequest, rec *models.ConsentRecord) Item {
	it := Item{Kind: KindRequest, ID: r.ID, StoryID: r.StoryID, PatientID: r.PatientID}
	switch {
	case rec != nil:
		ri := s.recordItem(rec)
		it.Open, it.Until = ri.Open, ri.Until
	case slices.Contains(liveRequest, r.Status) || r.Status == models.RequestSigned:
		it.Open = true
	case r.CompletedAt != nil:
		it.Until = s.until(*r.CompletedAt)
	default:
		it.Until = s.until(r.UpdatedAt)
	}
	return it
}

// later merges b into a: open wins, else the later date.
func later(a, b Item) Item {
	a.Open = a.Open || b.Open
	if b.Until.After(a.Until) {
		a.Until = b.Until
	}
	return a
}

// mediaItem is asset a's retention from every record and request that
// refers to it; ok is false when none does.
func (s *Service) mediaItem(a *models.MediaAsset, ev *evidence) (Item, bool) {
	it := Item{Kind: KindMedia, ID: a.ID}
	if a.OwnerType == models.OwnerStory {
		it.StoryID = a.OwnerID
	}
	found := false
	for i := range ev.records {
		if r := &ev.records[i]; slices.Contains(parseList(r.MediaIDs), a.ID) {
			it, found = later(it, s.recordItem(r)), true
			it.StoryID, it.PatientID = r.StoryID, r.PatientID
		}
	}
	for i := range ev.requests {
		if r := &ev.requests[i]; slices.Contains(parseList(r.MediaIDs), a.ID) {
			it, found = later(it, s.requestItem(r, ev.recByReq[r.ID])), true
			it.StoryID, it.PatientID = r.StoryID, r.PatientID
		}
	}
	return it, found
}

// held reports whether an active legal hold covers the story or patient
// (a story's hold also covers it through its patient).
func (s *Service) held(ctx context.Context, db *gorm.DB, storyID, patientID string) (bool, error) {
	if storyID != "" && patientID == "" {
		var st models.Story
		if err := db.WithContext(ctx).Select("id", "patient_id").Where("id = ?", storyID).Limit(1).Find(&st).Error; err != nil {
			return false, err
		}
		patientID = st.PatientID
	}
	var n int64
	err := db.WithContext(ctx).Model(&models.LegalHold{}).Where("lifted_at IS NULL AND ((subject_type = ? AND subject_id = ?) OR (subject_type = ? AND subject_id = ?))",
		models.HoldStory, storyID, models.HoldPatient, patientID).Count(&n).Error
	return n > 0, err
}

// MediaRetention is asset id's retention; ok is false when no consent
// record or request refers to it.
func (s *Service) MediaRetention(ctx context.Context, id string) (Item, bool, error) {
	var a models.MediaAsset
	if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&a).Error; err != nil || a.ID == "" {
		return Item{}, false, err
	}
	ev, err := s.load(ctx, s.db, "media_ids LIKE ?", "%"+id+"%")
	if err != nil {
		return Item{}, false, err
	}
	it, ok := s.mediaItem(&a, ev)
	return it, ok, nil
}

// Bound implements assets.Binder. An asset under a legal hold, or referred
// to by a consent record or request of any status whose retention has not
// passed, cannot be deleted; the error says why and, once the consent has
// ended, the date from which it may go.
func (s *Service) Bound(ctx context.Context, id string) (bool, error) {
	it, ok, err := s.MediaRetention(ctx, id)
	if err != nil {
		return false, err
	}
	storyID, patientID := it.StoryID, it.PatientID
	if !ok {
		var a models.MediaAsset
		if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&a).Error; err != nil {
			return false, err
		}
		switch a.OwnerType {
		case models.OwnerStory:
			storyID = a.OwnerID
		case models.OwnerInterview:
			// An interview's recording is the patient's: a patient hold keeps it.
			var iv models.Interview
			if err := s.db.WithContext(ctx).Select("id", "patient_id").Where("id = ?", a.OwnerID).Limit(1).Find(&iv).Error; err != nil {
				return false, err
			}
			patientID = iv.PatientID
		}
	}
	if h, err := s.held(ctx, s.db, storyID, patientID); err != nil || h {
		if err != nil {
			return false, err
		}
		return true, apperr.New(409, "This item is under a legal hold, so it cannot be deleted until an administrator lifts the hold.")
	}
	if !ok {
		return false, nil
	}
	if it.Open {
		return true, apperr.New(409, fmt.Sprintf("This item is part of what a patient consented to, so it cannot be deleted while that consent stands, nor for %d years after it ends.", s.years))
	}
	if s.now().Before(it.Until) {
		return true, apperr.New(409, fmt.Sprintf("This item is evidence of a patient's consent and must be kept for %d years after the consent ended. It may be deleted from %s.", s.years, it.Until.Format("2 January 2006")))
	}
	return false, nil
}

// Due lists the evidence that has passed retention, sorted by kind and id:
// what a purge would delete (Due) and what a legal hold keeps (Held).
func (s *Service) Due(ctx context.Context) (*Report, error) {
	ev, err := s.load(ctx, s.db, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	var items []Item
	for i := range ev.records {
		items = append(items, s.recordItem(&ev.records[i]))
	}
	for i := range ev.requests {
		items = append(items, s.requestItem(&ev.requests[i], ev.recByReq[ev.requests[i].ID]))
	}
	seen := map[string]bool{}
	var assets []models.MediaAsset
	for _, lst := range [][]string{recordMedia(ev), requestMedia(ev)} {
		for _, id := range lst {
			if seen[id] {
				continue
			}
			seen[id] = true
			var a models.MediaAsset
			if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&a).Error; err != nil {
				return nil, err
			}
			if a.ID != "" {
				assets = append(assets, a)
			}
		}
	}
	for i := range assets {
		if it, ok := s.mediaItem(&assets[i], ev); ok {
			items = append(items, it)
		}
	}
	// A request is only purged with, or after, its record: the record
	// refers to it.
	rep := &Report{}
	for _, it := range items {
		if it.Open || now.Before(it.Until) {
			continue
		}
		h, err := s.held(ctx, s.db, it.StoryID, it.PatientID)
		if err != nil {
			return nil, err
		}
		it.Held = h
		if h {
			rep.Held = append(rep.Held, it)
		} else {
			rep.Due = append(rep.Due, it)
		}
	}
	order := map[string]int{KindMedia: 0, KindRecord: 1, KindRequest: 2}
	for _, l := range [][]Item{rep.Due, rep.Held} {
		sort.SliceStable(l, func(i, j int) bool {
			if order[l[i].Kind] != order[l[j].Kind] {
				return order[l[i].Kind] < order[l[j].Kind]
			}
			return l[i].ID < l[j].ID
		})
	}
	return rep, nil
}

func recordMedia(ev *evidence) []string {
	var out []string
	for _, r := range ev.records {
		out = append(out, parseList(r.MediaIDs)...)
	}
	return out
}

func requestMedia(ev *evidence) []string {
	var out []string
	for _, r := range ev.requests {
		out = append(out, parseList(r.MediaIDs)...)
	}
	return out
}

// Purged is what a purge deleted.
type Purged struct {
	Items []Item
	Held  int // past retention but kept by a legal hold
}

// Purge deletes every item Due lists: media assets (row, objects,
// renditions) first, then consent records with their signature image and
// certificate, then requests. Each deletion is audited as retention.purge
// in the transaction that makes it; objects are removed after the rows.
func (s *Service) Purge(ctx context.Context) (*Purged, error) {
	rep, err := s.Due(ctx)
	if err != nil {
		return nil, err
	}
	out := &Purged{Held: len(rep.Held)}
	for _, it := range rep.Due {
		var err error
		switch it.Kind {
		case KindMedia:
			err = s.purgeMedia(ctx, it)
		case KindRecord:
			err = s.purgeRecord(ctx, it)
		case KindRequest:
			err = s.purgeRequest(ctx, it)
		}
		if err != nil {
			return out, fmt.Errorf("purge %s %s: %w", it.Kind, it.ID, err)
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

func (s *Service) entry(it Item) audit.Entry {
	return audit.Entry{Action: "retention.purge", ObjectType: it.Kind, ObjectID: it.ID,
		Details: map[string]any{"story_id": it.StoryID, "retained_until": it.Until.Format(time.DateOnly), "retention_years": s.years}}
}

func (s *Service) purgeMedia(ctx context.Context, it Item) error {
	if s.media == nil {
		return errors.New("retention: no media service")
	}
	// Delete asks Bound again, which refuses if anything changed since Due.
	if err := s.media.Delete(ctx, it.ID); err != nil {
		return err
	}
	return s.audit.Record(ctx, nil, s.entry(it))
}

func (s *Service) purgeRecord(ctx context.Context, it Item) error {
	var rec models.ConsentRecord
	var scans []string // the record's paper scans go with it (docs/consent-paper.md)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", it.ID).Take(&rec).Error; err != nil {
			return err
		}
		if rec.EndedAt == nil || s.now().Before(s.until(*rec.EndedAt)) {
			return errors.New("no longer past retention")
		}
		if h, err := s.held(ctx, tx, rec.StoryID, rec.PatientID); err != nil || h {
			return errors.Join(err, errors.New("under a legal hold"))
		}
		if err := tx.Model(&models.ConsentPaperDocument{}).Where("record_id = ?", rec.ID).Pluck("storage_key", &scans).Error; err != nil {
			return err
		}
		if err := tx.Delete(&models.ConsentPaperDocument{}, "record_id = ?", rec.ID).Error; err != nil {
			return err
		}
		// The hashes of its revocation links go with it (they reference it).
		if err := tx.Delete(&models.ConsentRevokeToken{}, "record_id = ?", rec.ID).Error; err != nil {
			return err
		}
		if err := tx.Delete(&models.ConsentRecord{}, "id = ?", rec.ID).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, s.entry(it))
	})
	if err != nil {
		return err
	}
	for _, k := range append([]string{rec.SignatureKey, rec.CertificateKey}, scans...) {
		if k != "" && s.store != nil {
			if err := s.store.Delete(ctx, k); err != nil {
				s.log.Warn("retention purge: object not removed", "record", rec.ID, "key", k, "err", err)
			}
		}
	}
	return nil
}

func (s *Service) purgeRequest(ctx context.Context, it Item) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.ConsentRecord{}).Where("request_id = ?", it.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return errors.New("its consent record is still kept")
		}
		if h, err := s.held(ctx, tx, it.StoryID, it.PatientID); err != nil || h {
			return errors.Join(err, errors.New("under a legal hold"))
		}
		if err := tx.Delete(&models.ConsentRequest{}, "id = ?", it.ID).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, s.entry(it))
	})
}

// Legal holds.

// SetHold puts a patient or a story under a legal hold, audited.
func (s *Service) SetHold(ctx context.Context, subjectType, subjectID, reason string) (*models.LegalHold, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, apperr.New(422, "Say why the hold is set (for example the matter or case number).")
	}
	var table string
	switch subjectType {
	case models.HoldPatient:
		table = "patients"
	case models.HoldStory:
		table = "stories"
	default:
		return nil, apperr.New(422, "A legal hold is set on a patient or a story.")
	}
	h := &models.LegalHold{ID: uuid.Must(uuid.NewV7()).String(), SubjectType: subjectType, SubjectID: subjectID, Reason: reason,
		SetBy: audit.ActorFrom(ctx).ID, SetAt: s.now()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table(table).Where("id = ?", subjectID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return apperr.NotFound("There is no " + subjectType + " with that id.")
		}
		if err := tx.Create(h).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "legal_hold.set", ObjectType: subjectType, ObjectID: subjectID,
			Details: map[string]any{"hold_id": h.ID}})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// LiftHold lifts an active hold, audited.
func (s *Service) LiftHold(ctx context.Context, holdID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var h models.LegalHold
		if err := tx.Where("id = ? AND lifted_at IS NULL", holdID).Limit(1).Find(&h).Error; err != nil {
			return err
		}
		if h.ID == "" {
			return apperr.NotFound("There is no active legal hold with that id.")
		}
		now := s.now()
		if err := tx.Model(&models.LegalHold{}).Where("id = ?", h.ID).
			Updates(map[string]any{"lifted_at": now, "lifted_by": audit.ActorFrom(ctx).ID}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "legal_hold.lift", ObjectType: h.SubjectType, ObjectID: h.SubjectID,
			Details: map[string]any{"hold_id": h.ID}})
	})
}

// Holds lists the active holds, oldest first.
func (s *Service) Holds(ctx context.Context) ([]models.LegalHold, error) {
	var hs []models.LegalHold
	err := s.db.WithContext(ctx).Where("lifted_at IS NULL").Order("set_at, id").Find(&hs).Error
	return hs, err
}

// The daily report.

// JobReport is the daily job that lists what has passed retention.
const JobReport = "retention.report"

// Register handles the daily job on q and remembers q for scheduling.
func (s *Service) Register(q *jobs.Queue) {
	s.jobs = q
	q.Handle(JobReport, s.HandleReport)
	q.Handle(JobLock, s.HandleLock)
}

// ScheduleReport queues the report for at's day (one per day across
// replicas, by idempotency key).
func (s *Service) ScheduleReport(ctx context.Context, at time.Time) error {
	day := at.UTC().Format(time.DateOnly)
	_, err := s.jobs.Enqueue(ctx, nil, JobReport, struct{}{}, jobs.Options{RunAt: at, Key: JobReport + ":" + day})
	return err
}

// HandleReport lists what has passed retention (nothing is deleted),
// records the list in the audit log as retention.due (ids only), and
// queues tomorrow's report.
func (s *Service) HandleReport(ctx context.Context, _ *models.Job) error {
	ctx = audit.WithActor(ctx, audit.System)
	// Extend the write-once date of valid records, and catch up on any
	// lock that failed; a failure is logged and tried again tomorrow.
	if n, err := s.LockAll(ctx, false); err != nil {
		s.log.Warn("retention: write-once evidence not all retained", "records", n, "err", err)
	}
	rep, err := s.Due(ctx)
	if err != nil {
		return err
	}
	if len(rep.Due)+len(rep.Held) > 0 {
		ids := func(l []Item) []string {
			var out []string
			for _, it := range l {
				out = append(out, it.Kind+":"+it.ID)
			}
			return out
		}
		if err := s.audit.Record(ctx, nil, audit.Entry{Action: "retention.due", ObjectType: "retention", ObjectID: s.now().Format(time.DateOnly),
			Details: map[string]any{"due": ids(rep.Due), "held": ids(rep.Held), "retention_years": s.years}}); err != nil {
			return err
		}
		s.log.Info("retention: evidence past retention; an administrator may run storykeep retention purge", "due", len(rep.Due), "held", len(rep.Held))
	}
	return s.ScheduleReport(ctx, s.now().Truncate(24*time.Hour).Add(24*time.Hour+3*time.Hour))
}
