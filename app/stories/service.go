// Package stories is the story service: creating and editing stories with a
// full revision history and optimistic locking, autosaved drafts, the
// lifecycle transitions of app/workflow, PHI findings and their
// acknowledgement, and finding stories (filters, full-text search, keyset
// pages). Every change is audited in the same transaction.
package stories

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Service is the story service.
type Service struct {
	db      *gorm.DB
	read    *gorm.DB // lists and search; see UseReader
	audit   *audit.Log
	flow    *workflow.Engine
	hooks   workflow.Hooks
	tags    cached[[]string]
	staff   cached[[]models.User]
	names   cached[map[string]string] // every user's name by id, for lists
	total   cached[int64]             // how many stories there are, for plans
	plans   plans                     // list query plans per filter value
	tagBits tagBitCache
}

// New returns the service. A nil consent checker refuses every approval
// (workflow.NoConsent) and nil hooks do nothing, until the consent
// capability provides both.
func New(db *gorm.DB, log *audit.Log, consent workflow.ConsentChecker, hooks workflow.Hooks) *Service {
	if hooks == nil {
		hooks = workflow.NopHooks{}
	}
	return &Service{db: db, read: db, audit: log, flow: workflow.New(consent), hooks: hooks}
}

// UseReader sends lists, searches and counts to r, a read-only pool. On
// SQLite the main handle has one connection (one writer at a time), so
// without it every search would queue behind every other; WAL lets the
// pool's readers run side by side, each seeing the last committed state.
func (s *Service) UseReader(r *gorm.DB) { s.read = r }

// Actor is who acts on a story.
type Actor = workflow.Actor

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// ErrNotFound is returned for a story id that does not exist.
var ErrNotFound = apperr.NotFound("That story does not exist.")

// StaleError refuses a save based on an old revision: someone else saved in
// between. It names who and when so the person can compare before saving.
type StaleError struct {
	Base, Latest int
	By           string
	At           time.Time
}

// Error is the message shown to the person whose save was refused.
func (e *StaleError) Error() string {
	return fmt.Sprintf("This story changed while you were editing: %s saved revision %d at %s UTC (you started from revision %d). Nothing was saved. Your text is kept below; compare the changes, then save again to replace theirs.",
		e.By, e.Latest, e.At.UTC().Format("2006-01-02 15:04"), e.Base)
}

// Status makes a stale save a 409.
func (e *StaleError) Status() int { return http.StatusConflict }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Create stores a new story as revision 1 in stage interview (or drafting
// when it starts with body text), owned by in.OwnerID.
func (s *Service) Create(ctx context.Context, a Actor, in Input) (*models.Story, error) {
	var st *models.Story
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		st, err = s.create(ctx, tx, a, in)
		return err
	})
	return st, err
}

func (s *Service) create(ctx context.Context, tx *gorm.DB, a Actor, in Input) (*models.Story, error) {
	if in.OwnerID == "" {
		in.OwnerID = a.UserID
	}
	tags := in.normalise()
	fe, err := validate(ctx, tx, &in, tags, "")
	if err != nil || fe != nil {
		return nil, errors.Join(err, nilIfEmpty(fe))
	}
	bits, err := tagBits(tx, tags)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	st := newStory(&in, tags, bits, now)
	if err := tx.Create(st).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, users.FieldErrors{"slug": slugTaken(in.Slug)}
		}
		return nil, err
	}
	if err := s.writeRelations(tx, st, false); err != nil {
		return nil, err
	}
	if err := s.addRevision(tx, st, a.UserID, nil, now); err != nil {
		return nil, err
	}
	if err := addEvent(tx, st, a.UserID, "created", "", workflow.Stage(st.Stage), "", now); err != nil {
		return nil, err
	}
	return st, s.audit.Record(ctx, tx, createdEntry(st))
}

// newStory is the row of a new story: revision 1, in stage interview (or
// drafting when it starts with body text).
func newStory(in *Input, tags []string, bits int64, now time.Time) *models.Story {
	stage := workflow.Interview
	if in.Body != "" {
		stage = workflow.Drafting
	}
	return &models.Story{ID: newID(), Slug: in.Slug, Title: in.Title, Summary: in.Summary, Body: in.Body, ChannelCopy: jsonString(in.Copy),
		OwnerID: in.OwnerID, PatientID: in.PatientID, InterviewID: optional(in.InterviewID), Stage: string(stage), Revision: 1, CreatedAt: now, UpdatedAt: now,
		TagBits: bits, ChannelBits: channels.Bits(in.Channels...), Tags: tags, Channels: in.Channels, Collaborators: in.Collaborators}
}

func createdEntry(st *models.Story) audit.Entry {
	return audit.Entry{Action: "story.create", ObjectType: "story", ObjectID: st.ID,
		Details: map[string]any{"patient_id": st.PatientID, "stage": st.Stage, "revision": 1}}
}

func nilIfEmpty(fe users.FieldErrors) error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Service) writeRelations(tx *gorm.DB, st *models.Story, replace bool) error {
	if replace {
		for _, m := range []any{&models.StoryTag{}, &models.StoryChannel{}, &models.StoryCollaborator{}} {
			if err := tx.Where("story_id = ?", st.ID).Delete(m).Error; err != nil {
				return err
			}
		}
	}
	var tags []models.StoryTag
	for _, t := range st.Tags {
		tags = append(tags, models.StoryTag{StoryID: st.ID, Tag: t})
	}
	var chans []models.StoryChannel
	for _, c := range st.Channels {
		chans = append(chans, models.StoryChannel{StoryID: st.ID, Channel: c})
	}
	var collab []models.StoryCollaborator
	for _, u := range st.Collaborators {
		collab = append(collab, models.StoryCollaborator{StoryID: st.ID, UserID: u})
	}
	for _, rows := range []any{tags, chans, collab} {
		if err := createIfAny(tx, rows); err != nil {
			return err
		}
	}
	return nil
}

func createIfAny(tx *gorm.DB, rows any) error {
	switch r := rows.(type) {
	case []models.StoryTag:
		if len(r) == 0 {
			return nil
		}
	case []models.StoryChannel:
		if len(r) == 0 {
			return nil
		}
	case []models.StoryCollaborator:
		if len(r) == 0 {
			return nil
		}
	}
	return tx.Create(rows).Error
}

func (s *Service) addRevision(tx *gorm.DB, st *models.Story, authorID string, restoredFrom *int, at time.Time) error {
	r := revisionRow(st, authorID, restoredFrom, at)
	return tx.Create(&r).Error
}

func revisionRow(st *models.Story, authorID string, restoredFrom *int, at time.Time) models.StoryRevision {
	tags, chans := st.Tags, st.Channels
	if tags == nil {
		tags = []string{}
	}
	if chans == nil {
		chans = []string{}
	}
	return models.StoryRevision{ID: newID(), StoryID: st.ID, Number: st.Revision, AuthorID: authorID, Title: st.Title, Summary: st.Summary,
		Body: st.Body, Tags: jsonString(tags), Channels: jsonString(chans), ChannelCopy: st.ChannelCopy, RestoredFrom: restoredFrom, CreatedAt: at}
}

func addEvent(tx *gorm.DB, st *models.Story, actorID, kind string, from, to workflow.Stage, note string, at time.Time) error {
	e := eventRow(st, actorID, kind, from, to, note, at)
	return tx.Create(&e).Error
}

func eventRow(st *models.Story, actorID, kind string, from, to workflow.Stage, note string, at time.Time) models.StoryEvent {
	return models.StoryEvent{ID: newID(), StoryID: st.ID, At: at, ActorID: actorID, Kind: kind, FromStage: string(from), ToStage: string(to), Revision: st.Revision, Note: note}
}

// SaveResult says what a save did.
type SaveResult struct {
	Story *models.Story
	// Unchanged is true when the submitted content equals the latest
	// revision, so no revision was created.
	Unchanged bool
	// Superseded is true when the edit changed consent-covered content and
	// moved the story back to drafting.
	Superseded bool
}

// Update saves in as a new revision of story id, provided base is still the
// latest revision; otherwise it returns a *StaleError and changes nothing.
// Editing content a patient was asked about supersedes the consent: the
// story goes back to drafting and the hooks hear about it.
func (s *Service) Update(ctx context.Context, a Actor, id string, base int, in Input) (*SaveResult, error) {
	var res *SaveResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		res, err = s.update(ctx, tx, a, id, base, in, nil)
		return err
	})
	return res, err
}

func (s *Service) update(ctx context.Context, tx *gorm.DB, a Actor, id string, base int, in Input, restoredFrom *int) (*SaveResult, error) {
	cur, err := s.load(tx, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkFresh(tx, cur, base); err != nil {
		return nil, err
	}
	if !workflow.Editable(workflow.Stage(cur.Stage)) {
		return nil, apperr.New(http.StatusConflict, "This story is "+workflow.Stage(cur.Stage).Label()+"; its content can no longer be edited.")
	}
	tags := in.normalise()
	fe, err := validate(ctx, tx, &in, tags, id)
	if err != nil || fe != nil {
		return nil, errors.Join(err, nilIfEmpty(fe))
	}
	next := *cur
	next.Slug, next.Title, next.Summary, next.Body, next.ChannelCopy = in.Slug, in.Title, in.Summary, in.Body, jsonString(in.Copy)
	next.OwnerID, next.PatientID, next.InterviewID = in.OwnerID, in.PatientID, optional(in.InterviewID)
	next.Tags, next.Channels, next.Collaborators = tags, in.Channels, in.Collaborators
	contentChanged := cur.Title != next.Title || cur.Summary != next.Summary || cur.Body != next.Body || !sameCopy(cur.ChannelCopy, next.ChannelCopy) ||
		!slices.Equal(cur.Tags, next.Tags) || !slices.Equal(cur.Channels, next.Channels)
	if !contentChanged && cur.Slug == next.Slug && cur.OwnerID == next.OwnerID && cur.PatientID == next.PatientID &&
		ptrEq(cur.InterviewID, next.InterviewID) && slices.Equal(cur.Collaborators, next.Collaborators) && restoredFrom == nil {
		return &SaveResult{Story: cur, Unchanged: true}, tx.Where("story_id = ? AND user_id = ?", id, a.UserID).Delete(&models.StoryDraft{}).Error
	}
	bits, err := tagBits(tx, tags)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	next.Revision = cur.Revision + 1
	next.UpdatedAt = now
	from := workflow.Stage(cur.Stage)
	// A consent is the patient's, for these words: a story that changes
	// either needs a new one.
	supersede := ""
	switch {
	case !workflow.ConsentCovered(from):
	case cur.PatientID != next.PatientID:
		supersede = "The story's patient changed, so the story needs the new patient's consent."
	case contentChanged:
		supersede = "Content covered by the consent request changed, so the story needs a new consent."
	}
	superseded := supersede != ""
	if superseded || (from == workflow.Interview && next.Body != "") {
		next.Stage = string(workflow.Drafting)
	}
	q := tx.Model(&models.Story{}).Where("id = ? AND revision = ?", id, cur.Revision).Updates(map[string]any{
		"slug": next.Slug, "title": next.Title, "summary": next.Summary, "body": next.Body, "channel_copy": next.ChannelCopy,
		"owner_id": next.OwnerID, "patient_id": next.PatientID, "interview_id": next.InterviewID, "stage": next.Stage,
		"revision": next.Revision, "updated_at": now, "tag_bits": bits, "channel_bits": channels.Bits(in.Channels...)})
	if q.Error != nil {
		if errors.Is(q.Error, gorm.ErrDuplicatedKey) {
			return nil, users.FieldErrors{"slug": "Another story already uses the address " + next.Slug + ". Choose a different one."}
		}
		return nil, q.Error
	}
	if q.RowsAffected == 0 {
		return nil, s.checkFresh(tx, &models.Story{ID: id, Revision: -1}, base)
	}
	if err := s.writeRelations(tx, &next, true); err != nil {
		return nil, err
	}
	if err := s.addRevision(tx, &next, a.UserID, restoredFrom, now); err != nil {
		return nil, err
	}
	if err := tx.Where("story_id = ? AND user_id = ?", id, a.UserID).Delete(&models.StoryDraft{}).Error; err != nil {
		return nil, err
	}
	if err := s.recordStageChange(ctx, tx, a, cur, &next, supersede, now); err != nil {
		return nil, err
	}
	action, details := "story.update", map[string]any{"revision": next.Revision}
	if restoredFrom != nil {
		action, details["restored_from"] = "story.restore", *restoredFrom
		if err := addEvent(tx, &next, a.UserID, "restored", "", "", fmt.Sprintf("Restored revision %d as revision %d.", *restoredFrom, next.Revision), now); err != nil {
			return nil, err
		}
	}
	if err := s.audit.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "story", ObjectID: id, Details: details}); err != nil {
		return nil, err
	}
	return &SaveResult{Story: &next, Superseded: superseded}, nil
}

// recordStageChange notes the automatic move to drafting an edit causes;
// supersede, when not empty, says why the edit superseded the consent.
func (s *Service) recordStageChange(ctx context.Context, tx *gorm.DB, a Actor, cur, next *models.Story, supersede string, now time.Time) error {
	from, to := workflow.Stage(cur.Stage), workflow.Stage(next.Stage)
	if from == to {
		return nil
	}
	superseded := supersede != ""
	kind, note := "transition", "Drafting started with the first save of the story text."
	if superseded {
		kind, note = "consent_superseded", supersede
	}
	if err := addEvent(tx, next, a.UserID, kind, from, to, note, now); err != nil {
		return err
	}
	if err := s.audit.Record(ctx, tx, audit.Entry{Action: "story.transition", ObjectType: "story", ObjectID: next.ID,
		Details: map[string]any{"from": from, "to": to, "reason": kind, "revision": next.Revision}}); err != nil {
		return err
	}
	if superseded {
		return s.hooks.ConsentSuperseded(ctx, tx, workflow.ConsentSuperseded{StoryID: next.ID, OldRevision: cur.Revision, NewRevision: next.Revision, FromStage: from, ActorID: a.UserID})
	}
	return s.hooks.Transitioned(ctx, tx, workflow.TransitionEvent{StoryID: next.ID, From: from, To: to, Revision: next.Revision, ActorID: a.UserID, Note: note})
}

func ptrEq(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func sameCopy(a, b string) bool {
	var x, y map[string]string
	_ = json.Unmarshal([]byte(a), &x)
	_ = json.Unmarshal([]byte(b), &y)
	return maps.Equal(x, y)
}

// checkFresh returns a *StaleError unless base is cur's revision.
func (s *Service) checkFresh(tx *gorm.DB, cur *models.Story, base int) error {
	if cur.Revision == base {
		return nil
	}
	var rev models.StoryRevision
	if err := tx.Where("story_id = ?", cur.ID).Order("number DESC").Limit(1).Find(&rev).Error; err != nil {
		return err
	}
	var u models.User
	if err := tx.Where("id = ?", rev.AuthorID).Limit(1).Find(&u).Error; err != nil {
		return err
	}
	name := u.Name
	if name == "" {
		name = "someone"
	}
	return &StaleError{Base: base, Latest: rev.Number, By: name, At: rev.CreatedAt}
}

// load reads a story with its tags, channels and collaborators.
func (s *Service) load(tx *gorm.DB, id string) (*models.Story, error) {
	var st models.Story
	if err := tx.Where("id = ?", id).Limit(1).Find(&st).Error; err != nil {
		return nil, err
	}
	if st.ID == "" {
		return nil, ErrNotFound
	}
	// Tags, channels and collaborators in one round trip: a story is
	// loaded for every page about it and every delivery.
	rows, err := tx.Raw(`SELECT 't', tag FROM story_tags WHERE story_id = ?
		UNION ALL SELECT 'c', channel FROM story_channels WHERE story_id = ?
		UNION ALL SELECT 'u', user_id FROM story_collaborators WHERE story_id = ?
		ORDER BY 1, 2`, id, id, id).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	st.Tags, st.Collaborators = []string{}, []string{}
	var chans []string
	for rows.Next() {
		var what, v string
		if err := rows.Scan(&what, &v); err != nil {
			return nil, err
		}
		switch what {
		case "t":
			st.Tags = append(st.Tags, v)
		case "c":
			chans = append(chans, v)
		case "u":
			st.Collaborators = append(st.Collaborators, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	st.Channels = orderChannels(chans)
	return &st, nil
}

// Get returns story id with its tags, channels and collaborators.
func (s *Service) Get(ctx context.Context, id string) (*models.Story, error) {
	return s.load(s.db.WithContext(ctx), id)
}

// Copy decodes a story's per-channel copy.
func Copy(st *models.Story) map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal([]byte(st.ChannelCopy), &m)
	return m
}

// InputOf turns a stored story back into form input (for the edit form).
func InputOf(st *models.Story) Input {
	in := Input{Title: st.Title, Slug: st.Slug, Summary: st.Summary, Body: st.Body, Channels: st.Channels, Copy: Copy(st),
		OwnerID: st.OwnerID, Collaborators: st.Collaborators, PatientID: st.PatientID}
	in.Tags = joinTags(st.Tags)
	if st.InterviewID != nil {
		in.InterviewID = *st.InterviewID
	}
	return in
}

// CreateMany stores many new stories in one transaction (imports and the
// demo data set): all of them or none. Each is checked by the same rules as
// Create and written with every row Create writes (revision 1, the
// "created" event, tags, channels, collaborators, member bits, the search
// index through its triggers, a "story.create" audit entry in the chain),
// but the checks read the database once per batch and the rows go in
// batches. A refusal names the input's position as "N: field".
func (s *Service) CreateMany(ctx context.Context, a Actor, ins []Input) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tags := make([][]string, len(ins))
		fes := make([]users.FieldErrors, len(ins))
		var slugs, people, pats, ivs []string
		for i := range ins {
			in := &ins[i]
			if in.OwnerID == "" {
				in.OwnerID = a.UserID
			}
			tags[i] = in.normalise()
			var slugOK bool
			fes[i], slugOK = validateFields(in, tags[i])
			if slugOK {
				slugs = append(slugs, in.Slug)
			}
			people = append(append(people, in.OwnerID), in.Collaborators...)
			pats = append(pats, in.PatientID)
			if in.InterviewID != "" {
				ivs = append(ivs, in.InterviewID)
			}
		}
		taken, err := pluckSet(tx, &models.Story{}, "slug", slugs)
		if err != nil {
			return err
		}
		var staff []models.User
		if err := inChunks(people, func(c []string) error { return tx.Where("id IN ?", c).Find(&staff).Error }); err != nil {
			return err
		}
		userByID := map[string]models.User{}
		for _, u := range staff {
			userByID[u.ID] = u
		}
		known, err := pluckSet(tx, &models.Patient{}, "id", pats)
		if err != nil {
			return err
		}
		var interviews []models.Interview
		if err := inChunks(ivs, func(c []string) error { return tx.Where("id IN ?", c).Find(&interviews).Error }); err != nil {
			return err
		}
		ivByID := map[string]models.Interview{}
		for _, iv := range interviews {
			ivByID[iv.ID] = iv
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		bitsOf := map[string]int64{}
		var (
			sts     []*models.Story
			revs    []models.StoryRevision
			events  []models.StoryEvent
			entries []audit.Entry
		)
		for i := range ins {
			in, fe := &ins[i], fes[i]
			if taken[in.Slug] {
				fe["slug"] = slugTaken(in.Slug)
			}
			active := 0
			for _, id := range in.Collaborators {
				if u, ok := userByID[id]; ok && u.DisabledAt == nil {
					active++
				}
			}
			peopleRule(in, userByID[in.OwnerID], active, fe)
			patientRule(in, known[in.PatientID], ivByID[in.InterviewID], fe)
			if len(fe) > 0 {
				out := users.FieldErrors{}
				for k, v := range fe {
					out[fmt.Sprint(i+1)+": "+k] = v
				}
				return out
			}
			taken[in.Slug] = true // a second input with the same address is refused too
			key := strings.Join(tags[i], "\x00")
			bits, ok := bitsOf[key]
			if !ok {
				if bits, err = tagBits(tx, tags[i]); err != nil {
					return err
				}
				bitsOf[key] = bits
			}
			st := newStory(in, tags[i], bits, now)
			sts = append(sts, st)
			revs = append(revs, revisionRow(st, a.UserID, nil, now))
			events = append(events, eventRow(st, a.UserID, "created", "", workflow.Stage(st.Stage), "", now))
			entries = append(entries, createdEntry(st))
		}
		if len(sts) == 0 {
			return nil
		}
		if err := tx.CreateInBatches(sts, 100).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return users.FieldErrors{"slug": "Another story took one of these addresses meanwhile. Try again."}
			}
			return err
		}
		var (
			tagRows    []models.StoryTag
			chanRows   []models.StoryChannel
			collabRows []models.StoryCollaborator
		)
		for _, st := range sts {
			for _, t := range st.Tags {
				tagRows = append(tagRows, models.StoryTag{StoryID: st.ID, Tag: t})
			}
			for _, c := range st.Channels {
				chanRows = append(chanRows, models.StoryChannel{StoryID: st.ID, Channel: c})
			}
			for _, u := range st.Collaborators {
				collabRows = append(collabRows, models.StoryCollaborator{StoryID: st.ID, UserID: u})
			}
		}
		for _, insert := range []func() error{
			func() error { return insertRows(tx, tagRows, 1000) }, func() error { return insertRows(tx, chanRows, 1000) },
			func() error { return insertRows(tx, collabRows, 1000) }, func() error { return insertRows(tx, revs, 100) },
			func() error { return insertRows(tx, events, 200) },
		} {
			if err := insert(); err != nil {
				return err
			}
		}
		return s.audit.RecordMany(ctx, tx, entries)
	})
}

// insertRows inserts rows, n to a statement.
func insertRows[T any](tx *gorm.DB, rows []T, n int) error {
	if len(rows) == 0 {
		return nil
	}
	return tx.CreateInBatches(rows, n).Error
}

// inChunks calls fn with the distinct values of vs, at most 500 at a time
// (bound parameters have a limit).
func inChunks(vs []string, fn func([]string) error) error {
	vs = slices.Compact(slices.Sorted(slices.Values(vs)))
	if len(vs) > 0 && vs[0] == "" {
		vs = vs[1:]
	}
	for len(vs) > 0 {
		n := min(len(vs), 500)
		if err := fn(vs[:n]); err != nil {
			return err
		}
		vs = vs[n:]
	}
	return nil
}

// pluckSet returns which of vs are values of column in model's table.
func pluckSet(tx *gorm.DB, model any, column string, vs []string) (map[string]bool, error) {
	set := map[string]bool{}
	err := inChunks(vs, func(c []string) error {
		var got []string
		if err := tx.Model(model).Where(column+" IN ?", c).Pluck(column, &got).Error; err != nil {
			return err
		}
		for _, g := range got {
			set[g] = true
		}
		return nil
	})
	return set, err
}
