package consent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/app/organisation"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/pdfseal"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Settings are the organisation's consent rules, from configuration.
type Settings struct {
	PublicURL        string
	OrganisationName string
	LinkDays         int   // default and maximum life of a consent link
	MaxYears         int   // the latest expiration a patient may choose
	ReminderDays     []int // days after sending on which a reminder goes out
	// PatientNoticeDays are the days before a consent ends on which the
	// patient is told (notices.go); nil means 30 and 7.
	PatientNoticeDays []int
	// Minors (issue 19 item 7, representative.go): the age of majority
	// (0 means 18), the age from which a minor may add assent (0 means 12),
	// and whether a consent outlives the patient's majority (by default it
	// lapses and the new adult is asked to renew).
	AgeOfMajority  int
	AssentAge      int
	KeepAtMajority bool
}

// Service runs consent requests from sending to signing, declining,
// revocation and expiry. It is also the stories service's ConsentChecker
// and Hooks, which is how a change to consented content supersedes it.
type Service struct {
	db        *gorm.DB
	read      *gorm.DB // see Deps.Reader
	clockSet  bool     // SetClock was called (see AnswersFromDatabase)
	audit     *audit.Log
	keys      *crypto.Keyring
	templates *Templates
	patients  *patients.Service
	media     *assets.Service
	store     storage.Store
	jobs      *jobs.Queue
	mail      mail.Sender
	log       *slog.Logger
	cfg       Settings
	// Stories is set after construction: the stories service needs this
	// service as its checker and hooks, and this one needs it to move stories.
	Stories *stories.Service
	// Takedown, when set, removes social posts when consent ends.
	Takedown Takedowner
	// Sealer, when set, seals every certificate (PAdES + RFC 3161 timestamp).
	Sealer *pdfseal.Sealer
	// Organisation holds the contact details and time zone forms,
	// disclosures and certificates print; a request cannot be sent until
	// they are set (organisation.go).
	Organisation *organisation.Service
	now          func() time.Time
}

// Deps are the services consent builds on.
type Deps struct {
	DB *gorm.DB
	// Reader, when set, is a second handle used by Covers and Allowed. The
	// stories service asks Covers inside its own transaction, which on
	// SQLite holds the only connection of DB; a separate WAL reader sees the
	// committed state without waiting for it. Nil means DB (PostgreSQL).
	Reader    *gorm.DB
	Audit     *audit.Log
	Keys      *crypto.Keyring
	Templates *Templates
	Patients  *patients.Service
	Media     *assets.Service
	Store     storage.Store
	Jobs      *jobs.Queue
	Mail      mail.Sender
	Log       *slog.Logger
	Settings  Settings
}

// New returns the service; set Stories before use.
func New(d Deps) *Service {
	if d.Settings.LinkDays <= 0 {
		d.Settings.LinkDays = 14
	}
	if d.Settings.MaxYears <= 0 {
		d.Settings.MaxYears = 2
	}
	if d.Reader == nil {
		d.Reader = d.DB
	}
	s := &Service{db: d.DB, read: d.Reader, audit: d.Audit, keys: d.Keys, templates: d.Templates, patients: d.Patients, media: d.Media,
		store: d.Store, jobs: d.Jobs, mail: d.Mail, log: d.Log, cfg: d.Settings,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	if d.Patients != nil {
		d.Patients.OnContactChange(s.patientContactChanged)
	}
	return s
}

// Settings returns the consent settings (for forms showing the limits).
func (s *Service) Settings() Settings { return s.cfg }

// SetClock replaces the clock, so tests can move past expiry dates.
// A service on another clock than the public cache's is not cached behind
// (AnswersFromDatabase).
func (s *Service) SetClock(now func() time.Time) { s.now, s.clockSet = now, true }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

// systemActor is Storykeep acting on the patient's behalf in the workflow.
var systemActor = workflow.Actor{UserID: "system", System: true}

// patientActor attributes audit entries to the request, never to a name.
func patientCtx(ctx context.Context, requestID, ip string) context.Context {
	a := audit.ActorFrom(ctx)
	a.ID, a.Label = "patient:"+requestID, "patient"
	if ip != "" {
		a.IP = ip
	}
	return audit.WithActor(ctx, a)
}

// inTx runs fn inside the stories service's transaction for the transition
// of storyID to `to`, through the Transitioned hook: the story move, the
// consent change and their audit entries then commit or fail together, even
// on SQLite's single writer connection.
type txAction struct {
	storyID string
	to      workflow.Stage
	fn      func(tx *gorm.DB) error
	done    bool
}

type txActionKey struct{}

// transitionWith moves the story and runs fn in the same transaction.
func (s *Service) transitionWith(ctx context.Context, a workflow.Actor, storyID string, to workflow.Stage, note string, fn func(tx *gorm.DB) error) error {
	act := &txAction{storyID: storyID, to: to, fn: fn}
	if _, err := s.Stories.Transition(context.WithValue(ctx, txActionKey{}, act), a, storyID, to, note, 0); err != nil {
		return err
	}
	if !act.done {
		return errors.New("consent: the story moved but the consent change did not run")
	}
	return nil
}

// Transitioned implements workflow.Hooks: it runs the consent change that
// asked for this transition, inside the stories service's transaction.
func (s *Service) Transitioned(ctx context.Context, tx *gorm.DB, ev workflow.TransitionEvent) error {
	act, ok := ctx.Value(txActionKey{}).(*txAction)
	if !ok || act.done || act.storyID != ev.StoryID || act.to != ev.To {
		return nil
	}
	act.done = true
	return act.fn(tx)
}

// liveRequest lists request statuses still waiting for the patient.
var liveRequest = []string{models.RequestPending, models.RequestOpened, models.RequestVerified}

func isLive(status string) bool { return slices.Contains(liveRequest, status) }

func (s *Service) request(tx *gorm.DB, id string) (*models.ConsentRequest, error) {
	var r models.ConsentRequest
	if err := tx.Where("id = ?", id).Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, ErrLinkNotUsable
	}
	return &r, nil
}
