package stories_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	db      *gorm.DB
	svc     *stories.Service
	hooks   *recordingHooks
	ctx     context.Context
	teller  stories.Actor
	other   stories.Actor
	review  stories.Actor
	admin   stories.Actor
	patient string
}

type recordingHooks struct {
	superseded []workflow.ConsentSuperseded
	moved      []workflow.TransitionEvent
}

func (h *recordingHooks) Transitioned(_ context.Context, _ *gorm.DB, ev workflow.TransitionEvent) error {
	h.moved = append(h.moved, ev)
	return nil
}

func (h *recordingHooks) ConsentSuperseded(_ context.Context, _ *gorm.DB, ev workflow.ConsentSuperseded) error {
	h.superseded = append(h.superseded, ev)
	return nil
}

type yesConsent struct{}

func (yesConsent) Covers(context.Context, string, int, []string) (bool, string, error) {
	return true, "", nil
}

func newFixture(t testing.TB, consent workflow.ConsentChecker) *fixture {
	t.Helper()
	db, _ := dbtest.Open(t)
	f := &fixture{db: db, hooks: &recordingHooks{}, ctx: audit.WithActor(context.Background(), audit.System)}
	f.svc = stories.New(db, audit.New(db), consent, f.hooks)
	mk := func(role string) stories.Actor {
		u := models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: uuid.NewString() + "@hospital.test", Name: strings.ToUpper(role[:1]) + role[1:] + " " + uuid.NewString()[:4], Role: role, PasswordHash: "x", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		if err := db.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		return stories.Actor{UserID: u.ID, Role: role}
	}
	f.teller, f.other, f.review, f.admin = mk(models.RoleStoryteller), mk(models.RoleStoryteller), mk(models.RoleReviewer), mk(models.RoleAdmin)
	f.patient = InsertPatient(t, db, f.teller.UserID, "Maria Lopez")
	return f
}

// InsertPatient adds a patient row directly, until the patients service exists.
func InsertPatient(t testing.TB, db *gorm.DB, by, name string) string {
	t.Helper()
	p := models.Patient{ID: uuid.Must(uuid.NewV7()).String(), FullName: name, PreferredName: strings.Fields(name)[0], PreferredLanguage: "en", CreatedBy: by, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func (f *fixture) input(title string) stories.Input {
	return stories.Input{Title: title, Summary: "A short summary.", Body: "Maria walked again after surgery.", Tags: "Surgery, recovery",
		Channels: []string{"website", "x"}, Copy: map[string]string{"x": "Maria walks again https://example.org/story"}, OwnerID: f.teller.UserID, PatientID: f.patient}
}

func fieldErrors(t *testing.T, err error) users.FieldErrors {
	t.Helper()
	var fe users.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("want field errors, got %v", err)
	}
	return fe
}

func TestCreateValidation(t *testing.T) {
	f := newFixture(t, nil)
	first, err := f.svc.Create(f.ctx, f.teller, f.input("Maria walks again"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Slug != "maria-walks-again" || first.Stage != string(workflow.Drafting) || first.Revision != 1 {
		t.Fatalf("got %+v", first)
	}
	for name, tc := range map[string]struct {
		mod   func(*stories.Input)
		field string
		msg   string
	}{
		"empty title":     {func(in *stories.Input) { in.Title = "  " }, "title", "Enter a title."},
		"long title":      {func(in *stories.Input) { in.Title = strings.Repeat("a", 201) }, "title", "at most 200 characters"},
		"oversize body":   {func(in *stories.Input) { in.Body = strings.Repeat("a", 200*1024+1) }, "body", "the limit is 200 KB"},
		"invalid slug":    {func(in *stories.Input) { in.Slug = "Not A Slug!" }, "slug", "lower-case letters"},
		"double hyphen":   {func(in *stories.Input) { in.Slug = "a--b" }, "slug", "single hyphens"},
		"duplicate slug":  {func(in *stories.Input) { in.Slug = "maria-walks-again" }, "slug", "already uses the address maria-walks-again"},
		"unknown patient": {func(in *stories.Input) { in.PatientID = "nope" }, "patient", "Unknown patient"},
		"x too long":      {func(in *stories.Input) { in.Copy["x"] = strings.Repeat("é", 281) }, "copy-x", "X allows 280"},
		"unknown channel": {func(in *stories.Input) { in.Channels = append(in.Channels, "myspace") }, "channels", "Choose channels"},
		"bad owner":       {func(in *stories.Input) { in.OwnerID = f.review.UserID }, "owner", "storyteller or admin"},
	} {
		t.Run(name, func(t *testing.T) {
			in := f.input("Another story")
			in.Copy = map[string]string{"x": "short"}
			tc.mod(&in)
			_, err := f.svc.Create(f.ctx, f.teller, in)
			fe := fieldErrors(t, err)
			if !strings.Contains(fe[tc.field], tc.msg) {
				t.Fatalf("%s error %q, want %q (all: %v)", tc.field, fe[tc.field], tc.msg, fe)
			}
		})
	}
	var n int64
	f.db.Model(&models.Story{}).Count(&n)
	if n != 1 {
		t.Fatalf("invalid input must store nothing; %d stories", n)
	}
}

func TestRevisionsStaleRestoreAndDrafts(t *testing.T) {
	f := newFixture(t, nil)
	st, err := f.svc.Create(f.ctx, f.teller, f.input("Maria walks again"))
	if err != nil {
		t.Fatal(err)
	}
	in := stories.InputOf(st)
	in.Body = "Maria walked again, six weeks after surgery."
	res, err := f.svc.Update(f.ctx, f.teller, st.ID, 1, in)
	if err != nil || res.Story.Revision != 2 {
		t.Fatalf("update: %v %+v", err, res)
	}
	// Someone still on revision 1 is refused, told who saved, and nothing changes.
	in2 := stories.InputOf(st)
	in2.Body = "A different text."
	_, err = f.svc.Update(f.ctx, f.other, st.ID, 1, in2)
	var stale *stories.StaleError
	if !errors.As(err, &stale) || stale.Latest != 2 || !strings.Contains(stale.Error(), "Storyteller") {
		t.Fatalf("want stale error naming the author, got %v", err)
	}
	got, _ := f.svc.Get(f.ctx, st.ID)
	if got.Body != in.Body || got.Revision != 2 {
		t.Fatal("stale save changed the story")
	}
	// Identical save: no new revision.
	if res, err := f.svc.Update(f.ctx, f.teller, st.ID, 2, stories.InputOf(got)); err != nil || !res.Unchanged {
		t.Fatalf("unchanged save: %v %+v", err, res)
	}
	diff, err := f.svc.Diff(f.ctx, st.ID, 1, 2)
	if err != nil || !strings.Contains(string(diff[2].HTML), "<ins>, six weeks</ins>") {
		t.Fatalf("diff: %v %+v", err, diff)
	}
	res, err = f.svc.Restore(f.ctx, f.teller, st.ID, 1, 2)
	if err != nil || res.Story.Revision != 3 || res.Story.Body != "Maria walked again after surgery." {
		t.Fatalf("restore: %v %+v", err, res)
	}
	revs, _ := f.svc.Revisions(f.ctx, st.ID)
	if len(revs) != 3 || revs[0].RestoredFrom == nil || *revs[0].RestoredFrom != 1 {
		t.Fatalf("revisions: %+v", revs)
	}
	// Drafts: per user, no revision.
	in3 := stories.InputOf(res.Story)
	in3.Body = "unsaved words"
	if _, err := f.svc.SaveDraft(f.ctx, f.teller, st.ID, 3, in3); err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.GetDraft(f.ctx, f.teller, st.ID)
	if err != nil || d == nil || d.Input.Body != "unsaved words" || d.BaseRevision != 3 {
		t.Fatalf("draft: %v %+v", err, d)
	}
	if d, _ := f.svc.GetDraft(f.ctx, f.other, st.ID); d != nil {
		t.Fatal("drafts are private")
	}
	if got, _ := f.svc.Get(f.ctx, st.ID); got.Revision != 3 {
		t.Fatal("a draft must not create a revision")
	}
}

func TestWorkflowGuards(t *testing.T) {
	f := newFixture(t, nil)
	st, _ := f.svc.Create(f.ctx, f.teller, f.input("Maria walks again"))
	sys := stories.Actor{System: true}
	// Wrong role / wrong state.
	_, err := f.svc.Transition(f.ctx, f.other, st.ID, workflow.AwaitingConsent, "", 0)
	if e, ok := apperr.As(err); !ok || e.Status != 403 || !strings.Contains(e.Msg, "owner, a collaborator or an admin") {
		t.Fatalf("another storyteller: %v", err)
	}
	_, err = f.svc.Transition(f.ctx, f.teller, st.ID, workflow.Published, "", 0)
	if e, ok := apperr.As(err); !ok || e.Status != 409 || !strings.Contains(e.Msg, "From Drafting it can go to: Awaiting consent") {
		t.Fatalf("drafting to published: %v", err)
	}
	must := func(a stories.Actor, to workflow.Stage) {
		t.Helper()
		if _, err := f.svc.Transition(f.ctx, a, st.ID, to, "note", 0); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	must(f.teller, workflow.AwaitingConsent)
	must(sys, workflow.Consented)
	must(f.teller, workflow.InReview)
	// Editing consented content sends it back to drafting and tells the hook.
	cur, _ := f.svc.Get(f.ctx, st.ID)
	in := stories.InputOf(cur)
	in.Body += " More."
	res, err := f.svc.Update(f.ctx, f.teller, st.ID, cur.Revision, in)
	if err != nil || !res.Superseded || res.Story.Stage != string(workflow.Drafting) || len(f.hooks.superseded) != 1 {
		t.Fatalf("consent superseded: %v %+v %+v", err, res, f.hooks.superseded)
	}
	// So does giving a consented story another patient, even with the same words.
	must(f.teller, workflow.AwaitingConsent)
	must(sys, workflow.Consented)
	cur, _ = f.svc.Get(f.ctx, st.ID)
	in = stories.InputOf(cur)
	in.PatientID = InsertPatient(t, f.db, f.teller.UserID, "James Okafor")
	res, err = f.svc.Update(f.ctx, f.teller, st.ID, cur.Revision, in)
	if err != nil || !res.Superseded || res.Story.Stage != string(workflow.Drafting) || len(f.hooks.superseded) != 2 {
		t.Fatalf("a new patient must supersede the consent: %v %+v %+v", err, res, f.hooks.superseded)
	}
	var note string
	f.db.Model(&models.StoryEvent{}).Where("story_id = ? AND kind = ?", st.ID, "consent_superseded").Order("at DESC").Limit(1).Pluck("note", &note)
	if !strings.Contains(note, "patient changed") {
		t.Fatalf("the timeline must say the patient changed: %q", note)
	}
	must(f.teller, workflow.AwaitingConsent)
	must(sys, workflow.Consented)
	must(f.teller, workflow.InReview)
	// The author may not approve; a reviewer needs PHI acknowledged, then consent.
	_, err = f.svc.Transition(f.ctx, f.teller, st.ID, workflow.Approved, "", 0)
	if e, _ := apperr.As(err); e == nil || e.Status != 403 {
		t.Fatalf("author approving: %v", err)
	}
	_, err = f.svc.Transition(f.ctx, f.review, st.ID, workflow.Approved, "", 0)
	if e, _ := apperr.As(err); e == nil || !strings.Contains(e.Msg, "PHI finding") {
		t.Fatalf("unacknowledged PHI: %v", err)
	}
	cur, _ = f.svc.Get(f.ctx, st.ID)
	scans, _ := f.svc.Scan(f.ctx, cur)
	var fps []string
	for _, s := range scans {
		for _, x := range s.Findings {
			fps = append(fps, x.Fingerprint)
		}
	}
	if len(fps) == 0 {
		t.Fatal("the patient's name should be found")
	}
	if n, err := f.svc.Acknowledge(f.ctx, f.review, st.ID, cur.Revision, fps); err != nil || n != len(fps) {
		t.Fatalf("ack: %d %v", n, err)
	}
	_, err = f.svc.Transition(f.ctx, f.review, st.ID, workflow.Approved, "", 0)
	if e, _ := apperr.As(err); e == nil || !strings.Contains(e.Msg, "No signed consent") {
		t.Fatalf("no consent yet: %v", err)
	}
	events, _ := f.svc.Events(f.ctx, st.ID)
	if len(events) < 7 || events[len(events)-1].ToStage != string(workflow.InReview) {
		t.Fatalf("timeline: %+v", events)
	}
}

func TestApproveWithConsentAndPublish(t *testing.T) {
	f := newFixture(t, yesConsent{})
	in := f.input("Plain story")
	in.Body, in.Copy["x"] = "A story without identifiers.", "A story."
	st, _ := f.svc.Create(f.ctx, f.teller, in)
	for _, step := range []struct {
		a  stories.Actor
		to workflow.Stage
	}{{f.teller, workflow.AwaitingConsent}, {stories.Actor{System: true}, workflow.Consented}, {f.teller, workflow.InReview},
		{f.review, workflow.Approved}, {f.review, workflow.Published}} {
		_, err := f.svc.Transition(f.ctx, step.a, st.ID, step.to, "", 0)
		if step.to == workflow.Published {
			if e, _ := apperr.As(err); e == nil || e.Status != 403 || !strings.Contains(e.Msg, "Only a publisher") {
				t.Fatalf("reviewer publishing: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", step.to, err)
		}
	}
	pub := stories.Actor{UserID: "p", Role: models.RolePublisher}
	if _, err := f.svc.Transition(f.ctx, pub, st.ID, workflow.Published, "", 0); err != nil {
		t.Fatal(err)
	}
	cur, _ := f.svc.Get(f.ctx, st.ID)
	_, err := f.svc.Update(f.ctx, f.teller, st.ID, cur.Revision, stories.InputOf(cur))
	if e, _ := apperr.As(err); e == nil || !strings.Contains(e.Msg, "can no longer be edited") {
		t.Fatalf("editing published: %v", err)
	}
}

func TestListFiltersSearchAndKeyset(t *testing.T) {
	f := newFixture(t, nil)
	for i, title := range []string{"Heart surgery recovery", "Marathon after transplant", "A new hip", "Cancer survivor runs", "Twins born early"} {
		in := f.input(title)
		in.Body = title + " body text number " + string(rune('a'+i))
		in.Tags = map[bool]string{true: "cardiology", false: "other"}[i%2 == 0]
		if i == 4 {
			in.OwnerID = f.other.UserID
			in.Channels = []string{"bluesky"}
			in.Copy = map[string]string{"bluesky": "Twins"}
		}
		if _, err := f.svc.Create(f.ctx, f.teller, in); err != nil {
			t.Fatal(err)
		}
	}
	check := func(fl stories.Filter, want int) *stories.ListPage {
		t.Helper()
		p, err := f.svc.List(f.ctx, fl)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) != want {
			t.Fatalf("%+v: %d rows, want %d", fl, len(p.Rows), want)
		}
		return p
	}
	check(stories.Filter{Query: "transplant"}, 1)
	check(stories.Filter{Query: "transplants"}, 1) // a word's forms match it
	check(stories.Filter{Query: "surg"}, 1)        // an unfinished word matches as a prefix
	check(stories.Filter{Query: "heart surg"}, 1)
	check(stories.Filter{Query: "surv"}, 1)
	check(stories.Filter{Query: "survivors"}, 1)
	check(stories.Filter{Query: "hip"}, 1)
	check(stories.Filter{Query: `"; DROP TABLE stories; --`}, 0)
	check(stories.Filter{Query: `*`}, 0)
	check(stories.Filter{Tag: "Cardiology"}, 3)
	check(stories.Filter{Channel: "bluesky"}, 1)
	check(stories.Filter{OwnerID: f.other.UserID}, 1)
	check(stories.Filter{AuthorID: f.teller.UserID}, 4)
	check(stories.Filter{Stages: []string{"drafting"}, PatientID: f.patient}, 5)
	seen := map[string]bool{}
	p := check(stories.Filter{Limit: 2}, 2)
	for p != nil {
		for _, r := range p.Rows {
			if seen[r.ID] {
				t.Fatal("row repeated across pages")
			}
			seen[r.ID] = true
		}
		if p.Next == "" {
			break
		}
		p, _ = f.svc.List(f.ctx, stories.Filter{Limit: 2, After: p.Next})
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d stories, want 5", len(seen))
	}
	if _, err := f.svc.List(f.ctx, stories.Filter{After: "garbage!"}); err == nil {
		t.Fatal("bad cursor should be refused")
	}
}

// TestApprovalNeedsAltTextOnEveryPhoto: a photo without alt text blocks
// approval with a message saying how many and where to fix it.
func TestApprovalNeedsAltTextOnEveryPhoto(t *testing.T) {
	f := newFixture(t, yesConsent{})
	in := f.input("Photo story")
	in.Body, in.Copy["x"] = "A story without identifiers.", "A story."
	st, _ := f.svc.Create(f.ctx, f.teller, in)
	photo := models.MediaAsset{ID: uuid.Must(uuid.NewV7()).String(), OwnerType: models.OwnerStory, OwnerID: st.ID, Kind: "image", ContentType: "image/jpeg",
		SHA256: "x", StorageKey: "media/story/" + st.ID + "/p", UploadedBy: f.teller.UserID, RenditionsState: "ready", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := f.db.Create(&photo).Error; err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		a  stories.Actor
		to workflow.Stage
	}{{f.teller, workflow.AwaitingConsent}, {stories.Actor{System: true}, workflow.Consented}, {f.teller, workflow.InReview}} {
		if _, err := f.svc.Transition(f.ctx, step.a, st.ID, step.to, "", 0); err != nil {
			t.Fatalf("%s: %v", step.to, err)
		}
	}
	_, err := f.svc.Transition(f.ctx, f.review, st.ID, workflow.Approved, "", 0)
	if e, _ := apperr.As(err); e == nil || e.Status != 409 || !strings.Contains(e.Msg, "1 photo still needs alt text") {
		t.Fatalf("approval without alt text: %v", err)
	}
	f.db.Model(&photo).Update("alt_text", "A woman walking on a beach")
	if _, err := f.svc.Transition(f.ctx, f.review, st.ID, workflow.Approved, "", 0); err != nil {
		t.Fatalf("approval with alt text: %v", err)
	}
}

// TestSearchNewestFirstAcrossPages: search results come newest story first,
// page after page, with nothing repeated or lost, also with another filter;
// a page link from the plain list is refused by a search.
func TestSearchNewestFirstAcrossPages(t *testing.T) {
	f := newFixture(t, nil)
	var all, transplant []string // in creation order
	for i := 0; i < 30; i++ {
		in := f.input(fmt.Sprintf("Transplant story %d", i))
		if i%3 == 0 {
			in.Title = fmt.Sprintf("Marathon story %d", i)
		}
		st, err := f.svc.Create(f.ctx, f.teller, in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, st.ID)
		if i%3 != 0 {
			transplant = append(transplant, st.ID)
		}
	}
	// Editing an old story must not move it in search results.
	if _, err := f.svc.Update(f.ctx, f.teller, all[0], 1, stories.InputOf(mustGet(t, f, all[0]))); err != nil {
		t.Fatal(err)
	}
	walk := func(fl stories.Filter) []string {
		var out []string
		for pages := 0; pages < 10; pages++ {
			fl.Limit = 7
			p, err := f.svc.List(f.ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Rows {
				out = append(out, r.ID)
			}
			if p.Next == "" {
				return out
			}
			fl.After = p.Next
		}
		t.Fatal("paging did not end")
		return nil
	}
	reversed := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.Reverse(out)
		return out
	}
	if got := walk(stories.Filter{Query: "story"}); !slices.Equal(got, reversed(all)) {
		t.Fatalf("search \"story\":\n%v\nwant\n%v", got, reversed(all))
	}
	if got := walk(stories.Filter{Query: "transpl", Stages: []string{"drafting"}}); !slices.Equal(got, reversed(transplant)) {
		t.Fatalf("search \"transpl\" in drafting:\n%v\nwant\n%v", got, reversed(transplant))
	}
	if got := walk(stories.Filter{Query: "nothing"}); len(got) != 0 {
		t.Fatalf("search \"nothing\" found %v", got)
	}
	plain, err := f.svc.List(f.ctx, stories.Filter{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.List(f.ctx, stories.Filter{Query: "story", After: plain.Next}); err == nil {
		t.Fatal("a list page link was accepted by a search")
	}
}

func mustGet(t *testing.T, f *fixture, id string) *models.Story {
	t.Helper()
	st, err := f.svc.Get(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestNewTagsFromConcurrentSaves: saves that first use tags at the same time
// all succeed, each new tag gets a bit of its own, and each tag's filter finds
// exactly its story.
func TestNewTagsFromConcurrentSaves(t *testing.T) {
	f := newFixture(t, nil)
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := f.input(fmt.Sprintf("Concurrent %d", i))
			in.Tags = fmt.Sprintf("ward %da, ward %db", i, i)
			st, err := f.svc.Create(f.ctx, f.teller, in)
			if err == nil {
				ids[i] = st.ID
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	var tags []models.Tag
	if err := f.db.Find(&tags).Error; err != nil {
		t.Fatal(err)
	}
	bits := map[int]string{}
	for _, tg := range tags {
		if tg.Bit == nil {
			t.Fatalf("tag %q has no bit though fewer than 63 are in use", tg.Tag)
		}
		if other, ok := bits[*tg.Bit]; ok {
			t.Fatalf("tags %q and %q share bit %d", tg.Tag, other, *tg.Bit)
		}
		bits[*tg.Bit] = tg.Tag
	}
	if len(tags) != 2*n {
		t.Fatalf("%d tags registered, want %d", len(tags), 2*n)
	}
	restore := stories.ForcePlans(f.svc, true) // filter on the bits alone
	defer restore()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("save %d: %v", i, errs[i])
		}
		p, err := f.svc.List(f.ctx, stories.Filter{Tag: fmt.Sprintf("ward %db", i)})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) != 1 || p.Rows[0].ID != ids[i] {
			t.Fatalf("tag ward %db finds %+v, want only story %s", i, p.Rows, ids[i])
		}
	}
}

// TestFilterPlanFollowsTheShare: a tag or channel on at least one story in
// 200 is filtered by walking the index (broad); a rarer one starts from its
// matches (narrow).
func TestFilterPlanFollowsTheShare(t *testing.T) {
	f := newFixture(t, nil)
	var ins []stories.Input
	for i := range 400 {
		in := stories.DemoInput("share", i, f.teller.UserID, f.patient, "Maria Lopez")
		if i < 2 {
			in.Tags += ", two stories"
		}
		if i == 0 {
			in.Tags += ", one story"
		}
		ins = append(ins, in)
	}
	if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fl   stories.Filter
		key  string
		want bool
		rows int
	}{
		{stories.Filter{Tag: "two stories"}, "story_tags:two stories", true, 2},
		{stories.Filter{Tag: "one story"}, "story_tags:one story", false, 1},
		{stories.Filter{Channel: "instagram"}, "story_channels:instagram", true, 50},
	} {
		p, err := f.svc.List(f.ctx, c.fl)
		if err != nil {
			t.Fatal(err)
		}
		broad, ok := stories.PlanIsBroad(f.svc, c.key)
		if !ok || broad != c.want || len(p.Rows) != c.rows {
			t.Errorf("%+v: broad %v (planned %v), %d rows; want broad %v, %d rows", c.fl, broad, ok, len(p.Rows), c.want, c.rows)
		}
	}
}

// TestTagChoicesAreTagsInUse: the list's tag filter offers the tags some
// story has now, not one every story has dropped.
func TestTagChoicesAreTagsInUse(t *testing.T) {
	f := newFixture(t, nil)
	in := f.input("First")
	in.Tags = "asthma, zebra"
	first, err := f.svc.Create(f.ctx, f.teller, in)
	if err != nil {
		t.Fatal(err)
	}
	in = f.input("Second")
	in.Tags = "asthma"
	if _, err := f.svc.Create(f.ctx, f.teller, in); err != nil {
		t.Fatal(err)
	}
	in = stories.InputOf(first)
	in.Tags = "asthma, burns"
	if _, err := f.svc.Update(f.ctx, f.teller, first.ID, first.Revision, in); err != nil {
		t.Fatal(err)
	}
	fresh := stories.New(f.db, audit.New(f.db), nil, nil) // nothing cached yet
	got, err := fresh.Tags(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"asthma", "burns"}; !slices.Equal(got, want) {
		t.Fatalf("tag choices %v, want %v", got, want)
	}
}

// TestFilterPlansAgree: tag and channel filters give the same page whether
// the broad (walk the recency index, reading the member bits) or narrow
// (start from matches) form is used. The first 63 tags ever used own a bit;
// later ones share the overflow bit and are checked in story_tags, so a tag
// sharing it is not a match. Edited tags are found under their new name only.
func TestFilterPlansAgree(t *testing.T) {
	f := newFixture(t, nil)
	create := func(title, tags string) *models.Story {
		in := f.input(title)
		in.Tags = tags
		st, err := f.svc.Create(f.ctx, f.teller, in)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// cardiology and oncology take bits 0 and 1, f00 to f60 the rest; f61
	// onwards, and later tags, have none.
	create("First", "cardiology")
	create("Second", "oncology")
	for i := 0; i < 4; i++ {
		var tags []string
		for j := 0; j < stories.MaxTags; j++ {
			tags = append(tags, fmt.Sprintf("f%02d", i*stories.MaxTags+j))
		}
		create(fmt.Sprintf("Filler %d", i), strings.Join(tags, ", "))
	}
	var last *models.Story
	for i := 0; i < 20; i++ {
		tags := map[bool]string{true: "cardiology", false: "oncology"}[i%3 == 0]
		if i%4 == 1 {
			tags += ", ward"
		}
		last = create(fmt.Sprintf("Story %d", i), tags)
	}
	in := stories.InputOf(last) // story 19: oncology only, now cardiology
	in.Tags = "cardiology"
	if _, err := f.svc.Update(f.ctx, f.teller, last.ID, last.Revision, in); err != nil {
		t.Fatal(err)
	}
	var tags []models.Tag
	if err := f.db.Order("tag").Find(&tags).Error; err != nil {
		t.Fatal(err)
	}
	bits := map[string]string{}
	for _, tg := range tags {
		bits[tg.Tag] = "none"
		if tg.Bit != nil {
			bits[tg.Tag] = strconv.Itoa(*tg.Bit)
		}
	}
	if len(tags) != 83 || bits["cardiology"] != "0" || bits["oncology"] != "1" || bits["f60"] != "62" || bits["f61"] != "none" || bits["ward"] != "none" {
		t.Fatalf("tag bits: %v", bits)
	}
	counts := map[string]int{"cardiology": 9, "oncology": 13, "ward": 5, "f10": 1, "f70": 1, "f99": 0}
	for _, broad := range []bool{false, true} {
		restore := stories.ForcePlans(f.svc, broad)
		for tag, want := range counts {
			p, err := f.svc.List(f.ctx, stories.Filter{Tag: tag, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rows) != want {
				t.Errorf("broad plan %v, tag %q: %d stories, want %d", broad, tag, len(p.Rows), want)
			}
			if tag == "cardiology" && (len(p.Rows) == 0 || p.Rows[0].ID != last.ID) {
				t.Errorf("the story re-tagged cardiology is not first: %+v", p.Rows)
			}
		}
		restore()
	}
	ids := func(fl stories.Filter) string {
		fl.Limit = 4
		p, err := f.svc.List(f.ctx, fl)
		if err != nil {
			t.Fatal(err)
		}
		out := p.Next
		for _, r := range p.Rows {
			out += "," + r.ID
		}
		return out
	}
	for _, fl := range []stories.Filter{{Tag: "cardiology"}, {Tag: "oncology"}, {Tag: "ward"}, {Channel: "x"}, {Channel: "bluesky"}, {Tag: "cardiology", Query: "story"}, {Tag: "ward", Query: "story"}, {Channel: "x", Query: "story"}, {Query: "stor"}, {Query: "story", Stages: []string{"drafting"}}} {
		restore := stories.ForcePlans(f.svc, false)
		narrow := ids(fl)
		restore()
		restore = stories.ForcePlans(f.svc, true)
		broad := ids(fl)
		restore()
		if narrow != broad || (narrow == "") != (fl.Channel == "bluesky") {
			t.Fatalf("%+v: plans disagree:\n%s\n%s", fl, narrow, broad)
		}
	}
}

// TestSearchWithTagOrChannel: a search with a tag or a channel filter finds
// the stories having both the words and the tag or channel, also after a
// story's tags and channels change. On SQLite the full-text index answers
// for the tag and the channel (the query asks for their tokens, see
// migrations.storiesSearchMembers), and a token is never found as a word.
func TestSearchWithTagOrChannel(t *testing.T) {
	f := newFixture(t, nil)
	type story struct {
		st           *models.Story
		transplant   bool
		tag, channel string
	}
	var all []*story
	var checkPlan func(string)
	for i := range 24 {
		s := &story{transplant: i%2 == 0, tag: "oncology", channel: "x"}
		in := f.input(fmt.Sprintf("Story %d", i))
		in.Body = "A new hip."
		if s.transplant {
			in.Body = "A kidney transplant."
		}
		if i%3 == 0 {
			s.tag = "cardiology"
		}
		in.Tags = s.tag
		if i%4 == 0 {
			s.channel = "bluesky"
			in.Channels, in.Copy = []string{"website", "bluesky"}, map[string]string{"bluesky": "Hi"}
		}
		st, err := f.svc.Create(f.ctx, f.teller, in)
		if err != nil {
			t.Fatal(err)
		}
		s.st = st
		all = append(all, s)
	}
	check := func(when string) {
		t.Helper()
		for _, broad := range []bool{false, true} {
			restore := stories.ForcePlans(f.svc, broad)
			checkPlan(fmt.Sprintf("%s, broad plans %v", when, broad))
			restore()
		}
	}
	checkPlan = func(when string) {
		t.Helper()
		for _, fl := range []stories.Filter{{Query: "transplant", Tag: "cardiology"}, {Query: "transplant", Tag: "oncology"},
			{Query: "transplant", Channel: "bluesky"}, {Query: "transplant", Channel: "x"}, {Query: "transpl", Tag: "cardiology", Channel: "bluesky"}} {
			var want []string
			for i := len(all) - 1; i >= 0; i-- {
				s := all[i]
				if s.transplant && (fl.Tag == "" || s.tag == fl.Tag) && (fl.Channel == "" || s.channel == fl.Channel) {
					want = append(want, s.st.Title)
				}
			}
			p, err := f.svc.List(f.ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range p.Rows {
				got = append(got, r.Title)
			}
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("%s, %+v:\n got %v\nwant %v", when, fl, got, want)
			}
		}
	}
	check("as created")
	// Story 0 (cardiology, Bluesky) becomes oncology on X; story 2 gains cardiology and Bluesky.
	for _, c := range []struct {
		i            int
		tag, channel string
	}{{0, "oncology", "x"}, {2, "cardiology", "bluesky"}} {
		s := all[c.i]
		in := stories.InputOf(s.st)
		in.Tags, in.Channels, in.Copy = c.tag, []string{"website", c.channel}, map[string]string{c.channel: "Hi"}
		if _, err := f.svc.Update(f.ctx, f.teller, s.st.ID, s.st.Revision, in); err != nil {
			t.Fatal(err)
		}
		s.tag, s.channel = c.tag, c.channel
	}
	check("after changing tags and channels")
	for _, word := range []string{"t0", "t1", "c4", "c7"} {
		if p, err := f.svc.List(f.ctx, stories.Filter{Query: word}); err != nil || len(p.Rows) != 0 {
			t.Errorf("searching %q: %v, want no story", word, err)
		}
	}
	both := stories.Filter{Query: "transplant", Tag: "cardiology", Channel: "bluesky"}
	if f.db.Dialector.Name() == "postgres" {
		// Walking the index, the bits are tested before the words are matched.
		restore := stories.ForcePlans(f.svc, true)
		defer restore()
		sql, _, err := stories.ListSQL(f.svc, both)
		if err != nil {
			t.Fatal(err)
		}
		// The page is read from story_search alone, bits before words.
		if !strings.HasPrefix(sql, "SELECT ss.story_id, ss.title, ss.stage, ss.owner_id, ss.revision, ss.updated_at FROM story_search ss WHERE CASE WHEN (ss.tag_bits & $1) <> 0 AND (ss.channel_bits & $2) <> 0 THEN ss.search @@") ||
			!strings.HasSuffix(sql, "ORDER BY ss.story_id DESC LIMIT 51") || strings.Contains(sql, "stories.") {
			t.Fatalf("PostgreSQL must read the page from story_search, testing the bits before matching the words:\n%s", sql)
		}
		return
	}
	sql, vars, err := stories.ListSQL(f.svc, both)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sql, "_bits") || strings.Contains(sql, "story_tags") || !strings.Contains(fmt.Sprint(vars), `{search_members} : "t0" AND {search_members} : "c7"`) {
		t.Fatalf("SQLite must ask the full-text index for the tag and channel:\n%s\n%v", sql, vars)
	}
}

// TestSearchCountsUseTheIndex: a search for an unfinished word or a typo
// answers right after its counts; on PostgreSQL the counts that decide a
// search's plan go through the GIN index, never a scan of every story (for
// a word no story has, that scan read the whole table, 100 ms at 100,000
// stories). SQLite's counts are full-text queries, always on the index.
func TestSearchCountsUseTheIndex(t *testing.T) {
	f := newFixture(t, nil)
	var ins []stories.Input
	for i := range 200 {
		ins = append(ins, f.input(fmt.Sprintf("Story %d", i)))
	}
	if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"surg": 50, "zebra": 0, "surgeryy": 0} {
		if p, err := f.svc.List(f.ctx, stories.Filter{Query: q}); err != nil || len(p.Rows) != want {
			t.Fatalf("searching %q: %v", q, err)
		}
	}
	if f.db.Dialector.Name() != "postgres" {
		return
	}
	if err := f.db.Exec("ANALYZE story_search").Error; err != nil {
		t.Fatal(err)
	}
	for _, tsq := range []string{"zebra", "surg:*"} {
		plan, err := stories.CountPlans(f.svc, tsq)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "Seq Scan") || strings.Count(plan, "Bitmap Index Scan on story_search_idx") != 2 {
			t.Fatalf("%s: the counts must go through the GIN index:\n%s", tsq, plan)
		}
	}
}

// TestSearchWithPatientStartsFromThePatient: a patient has a handful of
// stories, so a search with a patient filter reads those stories and asks
// the full-text match of each, instead of walking every match of the term
// (on SQLite that walk made the search take a second at 100,000 stories).
func TestSearchWithPatientStartsFromThePatient(t *testing.T) {
	f := newFixture(t, nil)
	james := InsertPatient(t, f.db, f.teller.UserID, "James Okafor")
	var ins []stories.Input
	for i := range 300 {
		in := f.input(fmt.Sprintf("Maria's transplant, part %d", i))
		in.Body = "A kidney transplant changed everything."
		ins = append(ins, in)
	}
	for i, body := range []string{"After his transplant, James ran.", "James went back to teaching.", "A second transplant, years later."} {
		in := f.input(fmt.Sprintf("James, story %d", i))
		in.Body, in.PatientID = body, james
		ins = append(ins, in)
	}
	if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
		t.Fatal(err)
	}
	fl := stories.Filter{Query: "transplant", PatientID: james}
	p, err := f.svc.List(f.ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, r := range p.Rows {
		titles = append(titles, r.Title)
	}
	if strings.Join(titles, "|") != "James, story 2|James, story 0" || p.Next != "" {
		t.Fatalf("search + patient: %v (next %q)", titles, p.Next)
	}
	plan, err := stories.QueryPlan(f.svc, fl)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "\n")
	if f.db.Dialector.Name() == "postgres" {
		if !strings.Contains(all, "stories_patient") {
			t.Fatalf("PostgreSQL must start from the patient's stories:\n%s", all)
		}
	} else if len(plan) == 0 || !strings.HasPrefix(plan[0], "SEARCH stories USING") || !strings.Contains(plan[0], "patient_id=?") {
		t.Fatalf("SQLite must start from the patient's stories, not the full-text matches:\n%s", all)
	}
}

// TestOptimizeSearchMergesTheIndex: on SQLite the nightly job merges the
// full-text index's segments into one, in steps, and searches find the same
// stories afterwards; on PostgreSQL it has nothing to do.
func TestOptimizeSearchMergesTheIndex(t *testing.T) {
	f := newFixture(t, nil)
	for batch := range 3 { // each save's transaction writes a segment of its own
		var ins []stories.Input
		for i := range 40 {
			ins = append(ins, stories.DemoInput("opt", batch*40+i, f.teller.UserID, f.patient, "Maria Lopez"))
		}
		if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
			t.Fatal(err)
		}
	}
	search := func() []string {
		var ids []string
		for _, q := range []string{"transplant", "surg", "marathon"} {
			p, err := f.svc.List(f.ctx, stories.Filter{Query: q, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Rows {
				ids = append(ids, r.ID)
			}
		}
		return ids
	}
	before := search()
	segments := func() (n int64) {
		f.db.Raw("SELECT count(DISTINCT segid) FROM stories_fts_idx").Scan(&n)
		return n
	}
	sqlite := f.db.Dialector.Name() != "postgres"
	if sqlite && segments() < 2 {
		t.Fatalf("the test needs an index of several segments, has %d", segments())
	}
	steps, err := f.svc.OptimizeSearch(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sqlite {
		if steps != 0 {
			t.Fatalf("PostgreSQL: %d merge steps, want none", steps)
		}
		return
	}
	if steps < 2 || segments() != 1 {
		t.Fatalf("%d steps left %d segments, want one", steps, segments())
	}
	if after := search(); len(before) == 0 || strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("searches changed: %d stories before, %d after", len(before), len(after))
	}
	if again, err := f.svc.OptimizeSearch(f.ctx); err != nil || again != 0 {
		t.Fatalf("an index of one segment needs no work: %d steps, %v", again, err)
	}
}

// TestSearchOptimizeIsNightly: the job is queued for the next 03:00 UTC,
// once however often it is asked.
func TestSearchOptimizeIsNightly(t *testing.T) {
	f := newFixture(t, nil)
	q := jobs.New(f.db, slog.New(slog.DiscardHandler))
	for _, c := range []struct{ now, want string }{
		{"2026-11-24T02:59:00Z", "2026-11-24T03:00:00Z"},
		{"2026-11-24T03:00:00Z", "2026-11-25T03:00:00Z"},
		{"2026-11-24T22:10:00Z", "2026-11-25T03:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		for range 2 {
			if err := stories.ScheduleSearchOptimize(f.ctx, q, now); err != nil {
				t.Fatal(err)
			}
		}
		var runs []time.Time
		f.db.Model(&models.Job{}).Where("kind = ?", stories.JobOptimizeSearch).Order("run_at").Pluck("run_at", &runs)
		if want, _ := time.Parse(time.RFC3339, c.want); len(runs) == 0 || !runs[len(runs)-1].Equal(want) {
			t.Fatalf("at %s: runs %v, want the last at %s", c.now, runs, c.want)
		}
	}
	var n int64
	f.db.Model(&models.Job{}).Where("kind = ?", stories.JobOptimizeSearch).Count(&n)
	if n != 2 {
		t.Fatalf("%d jobs queued for two nights", n)
	}
}

// TestSearchFollowsEdits: a search sees a story's new words, stage and tags
// as soon as they are saved, in both of a search's plans. On PostgreSQL
// these live in story_search, kept by a trigger on stories; the owner
// filter joins the two tables, the others choose the page in story_search.
func TestSearchFollowsEdits(t *testing.T) {
	f := newFixture(t, nil)
	st, err := f.svc.Create(f.ctx, f.teller, f.input("Maria walks again"))
	if err != nil {
		t.Fatal(err)
	}
	in := f.input("Twins born early")
	in.Body, in.OwnerID = "Twins after surgery, born early.", f.other.UserID
	twins, err := f.svc.Create(f.ctx, f.teller, in)
	if err != nil {
		t.Fatal(err)
	}
	drafting, awaiting := []string{string(workflow.Drafting)}, []string{string(workflow.AwaitingConsent)}
	// check also compares each row with the story as saved: a list shows
	// its title, stage, owner, revision and time of the last change.
	check := func(when string, fl stories.Filter, want ...string) {
		t.Helper()
		for _, broad := range []bool{true, false} {
			restore := stories.ForcePlans(f.svc, broad)
			p, err := f.svc.List(f.ctx, fl)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range p.Rows {
				got = append(got, r.ID)
				cur := mustGet(t, f, r.ID)
				if r.Title != cur.Title || r.Stage != cur.Stage || r.OwnerID != cur.OwnerID || r.Revision != cur.Revision || !r.UpdatedAt.Equal(cur.UpdatedAt) {
					t.Errorf("%s, %+v: row %+v, story %q %s %s r%d %v", when, fl, r, cur.Title, cur.Stage, cur.OwnerID, cur.Revision, cur.UpdatedAt)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, %+v (broad plan %v): got %v, want %v", when, fl, broad, got, want)
			}
		}
	}
	check("as created", stories.Filter{Query: "surgery", Stages: drafting}, twins.ID, st.ID)
	check("as created", stories.Filter{Query: "surgery", OwnerID: f.other.UserID}, twins.ID)
	check("as created", stories.Filter{Query: "surgery", Stages: awaiting})

	if _, err := f.svc.Transition(f.ctx, f.teller, st.ID, workflow.AwaitingConsent, "", 0); err != nil {
		t.Fatal(err)
	}
	check("after the transition", stories.Filter{Query: "surgery", Stages: awaiting}, st.ID)
	check("after the transition", stories.Filter{Query: "surgery", Stages: drafting}, twins.ID)

	cur := mustGet(t, f, st.ID)
	in = stories.InputOf(cur)
	in.Title, in.Body, in.Tags = "Maria runs", "Maria ran a marathon.", "cardiology"
	if _, err := f.svc.Update(f.ctx, f.teller, st.ID, cur.Revision, in); err != nil {
		t.Fatal(err)
	}
	check("after the edit", stories.Filter{Query: "surgery"}, twins.ID)
	check("after the edit", stories.Filter{Query: "marathon", Tag: "cardiology"}, st.ID)
	check("after the edit", stories.Filter{Query: "marathon", OwnerID: f.teller.UserID, Tag: "cardiology"}, st.ID)
	check("after the edit", stories.Filter{Query: "marathon", OwnerID: f.other.UserID})
	check("after the edit", stories.Filter{Query: "surgery", Tag: "cardiology"})

	// A save that changes neither the words, the stage nor the tags still
	// makes a new revision.
	cur = mustGet(t, f, st.ID)
	in = stories.InputOf(cur)
	in.Copy = map[string]string{"x": "Maria runs again https://example.org/story"}
	if _, err := f.svc.Update(f.ctx, f.teller, st.ID, cur.Revision, in); err != nil {
		t.Fatal(err)
	}
	if mustGet(t, f, st.ID).Revision == cur.Revision {
		t.Fatal("the save made no revision")
	}
	check("after saving new channel copy", stories.Filter{Query: "marathon"}, st.ID)
}

// TestCreateManyWritesWhatCreateWrites: the batch path (imports, the demo)
// writes for each story exactly the rows Create writes — the story with its
// member bits, revision 1, the "created" event, tags, channels,
// collaborators, a "story.create" audit entry in an unbroken chain, the
// search index — and refuses what Create refuses, naming the input.
func TestCreateManyWritesWhatCreateWrites(t *testing.T) {
	f := newFixture(t, nil)
	one := stories.DemoInput("one", 1, f.teller.UserID, f.patient, "Maria Lopez")
	one.Collaborators = []string{f.other.UserID}
	single, err := f.svc.Create(f.ctx, f.teller, one)
	if err != nil {
		t.Fatal(err)
	}
	many := stories.DemoInput("many", 1, f.teller.UserID, f.patient, "Maria Lopez")
	many.Collaborators = []string{f.other.UserID}
	second := stories.DemoInput("many", 2, f.teller.UserID, f.patient, "Maria Lopez")
	if err := f.svc.CreateMany(f.ctx, f.teller, []stories.Input{many, second}); err != nil {
		t.Fatal(err)
	}
	var batch models.Story
	if err := f.db.Where("slug = ?", many.Slug).Take(&batch).Error; err != nil {
		t.Fatal(err)
	}
	type counts struct{ Revisions, Events, Tags, Channels, Collaborators, Audit int64 }
	count := func(id string) counts {
		var c counts
		f.db.Model(&models.StoryRevision{}).Where("story_id = ? AND number = 1", id).Count(&c.Revisions)
		f.db.Model(&models.StoryEvent{}).Where("story_id = ? AND kind = 'created'", id).Count(&c.Events)
		f.db.Model(&models.StoryTag{}).Where("story_id = ?", id).Count(&c.Tags)
		f.db.Model(&models.StoryChannel{}).Where("story_id = ?", id).Count(&c.Channels)
		f.db.Model(&models.StoryCollaborator{}).Where("story_id = ?", id).Count(&c.Collaborators)
		f.db.Model(&models.AuditEntry{}).Where("action = 'story.create' AND object_id = ?", id).Count(&c.Audit)
		return c
	}
	if a, b := count(single.ID), count(batch.ID); a != b || a.Revisions != 1 || a.Tags == 0 || a.Collaborators != 1 || a.Audit != 1 {
		t.Fatalf("Create wrote %+v, CreateMany %+v", a, b)
	}
	if batch.Stage != single.Stage || batch.Revision != 1 || batch.TagBits != single.TagBits || batch.ChannelBits != single.ChannelBits || batch.TagBits == 0 {
		t.Fatalf("batch story %+v, single %+v", batch, single)
	}
	rep, err := audit.New(f.db).Verify(f.ctx)
	if err != nil || rep.Broken != nil {
		t.Fatalf("audit chain after a batch: %+v %v", rep.Broken, err)
	}
	p, err := f.svc.List(f.ctx, stories.Filter{Query: "diagnosis"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range p.Rows {
		found = found || r.ID == batch.ID
	}
	if !found {
		t.Fatal("the search does not find a story made by CreateMany")
	}

	// Refusals: all or nothing, naming the input.
	var before int64
	f.db.Model(&models.Story{}).Count(&before)
	dup := stories.DemoInput("dup", 3, f.teller.UserID, f.patient, "Maria Lopez")
	for name, c := range map[string]struct {
		ins  []stories.Input
		want string
	}{
		"address taken":        {[]stories.Input{dup, func() stories.Input { in := dup; in.Slug = single.Slug; return in }()}, "2: slug"},
		"address twice":        {[]stories.Input{dup, dup}, "2: slug"},
		"unknown patient":      {[]stories.Input{func() stories.Input { in := dup; in.PatientID = "nobody"; return in }()}, "1: patient"},
		"reviewer as owner":    {[]stories.Input{func() stories.Input { in := dup; in.OwnerID = f.review.UserID; return in }()}, "1: owner"},
		"unknown collaborator": {[]stories.Input{func() stories.Input { in := dup; in.Collaborators = []string{"ghost"}; return in }()}, "1: collaborators"},
		"no title":             {[]stories.Input{func() stories.Input { in := dup; in.Title = ""; return in }()}, "1: title"},
	} {
		err := f.svc.CreateMany(f.ctx, f.teller, c.ins)
		var fe users.FieldErrors
		if !errors.As(err, &fe) || fe[c.want] == "" {
			t.Errorf("%s: %v, want a refusal of %q", name, err, c.want)
		}
	}
	var after int64
	f.db.Model(&models.Story{}).Count(&after)
	if after != before {
		t.Fatalf("a refused batch wrote %d stories", after-before)
	}
}

// TestAuthorOfManySearchStartsFromTheWords (issue 20, minimum necessary): a
// storyteller who owns many stories searches only theirs, and on SQLite the
// full-text index drives the search (newest match first, a page at a time)
// rather than the owner index, which would ask the full-text index about
// every one of the author's stories (the load test's storyteller owns all
// 100,000).
func TestAuthorOfManySearchStartsFromTheWords(t *testing.T) {
	f := newFixture(t, nil)
	defer stories.ForcePlans(f.svc, true)() // the author counts as an author of many
	var ins []stories.Input
	for i := range 200 {
		in := f.input(fmt.Sprintf("Back at work, part %d", i))
		if i%50 == 0 {
			in.Body = "A kidney transplant changed everything."
		}
		if i == 50 {
			in.Collaborators = []string{f.other.UserID}
		}
		ins = append(ins, in)
	}
	if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
		t.Fatal(err)
	}
	// With statistics, as the nightly job and the demo leave them, SQLite
	// costs the owner index as the cheaper start.
	if err := f.db.Exec("ANALYZE").Error; err != nil {
		t.Fatal(err)
	}
	fl := stories.Filter{Query: "transplant", AuthorID: f.teller.UserID}
	p, err := f.svc.List(f.ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 4 {
		t.Fatalf("author's search found %d stories, want 4", len(p.Rows))
	}
	if p, err := f.svc.List(f.ctx, stories.Filter{Query: "transplant", AuthorID: f.review.UserID}); err != nil || len(p.Rows) != 0 {
		t.Fatalf("another user's search: %v, %v; want none", p, err)
	}
	if p, err := f.svc.List(f.ctx, stories.Filter{Query: "transplant", AuthorID: f.other.UserID}); err != nil || len(p.Rows) != 1 || p.Rows[0].Title != "Back at work, part 50" {
		t.Fatalf("a collaborator's search: %+v, %v; want the one story they work on", p, err)
	}
	if p, err := f.svc.List(f.ctx, stories.Filter{Query: "transplant", NotAuthorID: f.other.UserID}); err != nil || len(p.Rows) != 3 {
		t.Fatalf("search of stories others write: %+v, %v; want 3", p, err)
	}
	plan, err := stories.QueryPlan(f.svc, fl)
	if err != nil {
		t.Fatal(err)
	}
	if f.db.Dialector.Name() == "postgres" {
		// Owner and collaborators are asked of story_search: joining
		// stories walked both tables' keys (twice the search's time).
		for _, l := range plan {
			if strings.Contains(l, " on stories ") || strings.Contains(l, "stories_pkey") {
				t.Fatalf("an author's search on PostgreSQL must read story_search alone:\n%s", strings.Join(plan, "\n"))
			}
		}
		return
	}
	if len(plan) == 0 || !strings.HasPrefix(plan[0], "SCAN stories_fts VIRTUAL TABLE") {
		t.Fatalf("SQLite must start from the full-text matches, not the author's stories:\n%s", strings.Join(plan, "\n"))
	}
}

// TestSearchInFewStagesStartsFromTheStages (issue 20, minimum necessary): a
// reviewer's search over 100,000 drafts walked every match of a common term
// to find none in review or later (750 ms p99 on SQLite). When the stages
// hold few stories, SQLite starts from them; on PostgreSQL each stage is
// walked on its own (perStage). Either way only those stages are found.
func TestSearchInFewStagesStartsFromTheStages(t *testing.T) {
	f := newFixture(t, nil)
	var ins []stories.Input
	for i := range 300 {
		in := f.input(fmt.Sprintf("Maria's transplant, part %d", i))
		in.Body = "A kidney transplant changed everything."
		ins = append(ins, in)
	}
	if err := f.svc.CreateMany(f.ctx, f.teller, ins); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Exec("ANALYZE").Error; err != nil {
		t.Fatal(err)
	}
	review := []string{string(workflow.InReview), string(workflow.Approved), string(workflow.Published)}
	fl := stories.Filter{Query: "transplant", Stages: review}
	p, err := f.svc.List(f.ctx, fl)
	if err != nil || len(p.Rows) != 0 {
		t.Fatalf("search in review stages over drafts: %v rows, %v; want none", p, err)
	}
	if p, err := f.svc.List(f.ctx, stories.Filter{Stages: review}); err != nil || len(p.Rows) != 0 {
		t.Fatalf("list of review stages over drafts: %v, %v; want none", p, err)
	}
	if p, err := f.svc.List(f.ctx, stories.Filter{Query: "transplant", Stages: []string{string(workflow.Drafting), string(workflow.InReview)}, Limit: 10}); err != nil || len(p.Rows) != 10 || p.Next == "" {
		t.Fatalf("search in drafting or in review: %v, %v; want a page of 10 and a next page", p, err)
	}
	plan, err := stories.QueryPlan(f.svc, fl)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "\n")
	if f.db.Dialector.Name() == "postgres" {
		if !strings.Contains(all, "story_search_stage_idx") {
			t.Fatalf("PostgreSQL must walk each stage's stories:\n%s", all)
		}
	} else if len(plan) == 0 || !strings.HasPrefix(plan[0], "SEARCH stories USING") || !strings.Contains(plan[0], "stage=?") {
		t.Fatalf("SQLite must start from the stages' stories, not the full-text matches:\n%s", all)
	}
}
