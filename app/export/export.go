// Package export delivers approved stories to social channels: it formats
// each channel's post within that network's limits, sends it through a
// signed webhook, the Mastodon or Bluesky API, or an export bundle for
// manual posting, and takes posts down again when consent ends. Every
// delivery runs as a durable job and asks the consent gate at send time, so
// a consent revoked after scheduling still stops the post.
package export

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/stories"
)

// Job kinds handled by the service.
const (
	JobDeliver = "export.deliver"
	JobDelete  = "export.delete"
)

// ConsentGate decides, at the moment of sending, whether a story may go out
// on a channel with the given media and name usage. The consent capability
// implements it (consent.Service.Allowed); reason is shown and audited.
// Posts are built by the disclosure package, which also asks the gate's
// NameUsage when it has one (stories.ApprovalGate does); a gate without it
// gets "anonymous" posts.
type ConsentGate interface {
	Allowed(ctx context.Context, storyID, channel string, mediaIDs []string, nameUsage string) (ok bool, reason string, err error)
}

// DenyAll is the gate until a consent service is plugged in: nothing leaves.
type DenyAll struct{}

// Allowed always refuses.
func (DenyAll) Allowed(context.Context, string, string, []string, string) (bool, string, error) {
	return false, "no consent", nil
}

// CertificateSource supplies the signed consent certificate PDF for the
// export bundle; name is the file name inside the ZIP.
type CertificateSource interface {
	Certificate(ctx context.Context, storyID string) (name string, pdf []byte, err error)
}

// NoCertificates leaves the certificate out of bundles.
type NoCertificates struct{}

// Certificate returns nothing.
func (NoCertificates) Certificate(context.Context, string) (string, []byte, error) {
	return "", nil, nil
}

// Deps are what the service needs.
type Deps struct {
	DB        *gorm.DB
	Audit     *audit.Log
	Keys      *crypto.Keyring
	Jobs      *jobs.Queue
	Stories   *stories.Service
	Store     storage.Store
	Log       *slog.Logger
	PublicURL string
	// HTTP is the client adapters use; nil means one with a 30 s timeout
	// that refuses internal addresses (see Outbound).
	HTTP *http.Client
	// AllowHosts are channel hosts allowed although internal (F16).
	AllowHosts []string
}

// Service schedules, sends and takes down social posts.
type Service struct {
	db        *gorm.DB
	audit     *audit.Log
	keys      *crypto.Keyring
	jobs      *jobs.Queue
	stories   *stories.Service
	store     storage.Store
	log       *slog.Logger
	publicURL string
	adapters  map[string]Adapter
	verifier  *disclosure.Verifier
	now       func() time.Time
	outbound  *Outbound

	// Gate is asked before every send; DenyAll until consent plugs in.
	Gate ConsentGate
	// Certificates adds the consent certificate to bundles.
	Certificates CertificateSource
}

// New returns the service with every adapter registered.
func New(d Deps) *Service {
	out := NewOutbound(d.AllowHosts)
	hc := d.HTTP
	if hc == nil {
		hc = out.Client(30 * time.Second)
	}
	s := &Service{db: d.DB, audit: d.Audit, keys: d.Keys, jobs: d.Jobs, stories: d.Stories, store: d.Store, log: d.Log, publicURL: d.PublicURL,
		Gate: DenyAll{}, Certificates: NoCertificates{}, outbound: out,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	s.verifier = disclosure.NewVerifier(d.Store, d.Audit)
	s.adapters = map[string]Adapter{}
	for _, a := range []Adapter{NewWebhook(hc), NewMastodon(hc), NewBluesky(hc), Bundle{}} {
		s.adapters[a.Method()] = a
	}
	return s
}

// SetClock replaces the service's clock (tests, and the demo's click
// history over past days).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Register installs the job handlers.
func (s *Service) Register(q *jobs.Queue) {
	q.Handle(JobDeliver, s.HandleDeliver)
	q.Handle(JobDelete, s.HandleDelete)
	q.OnRetry(JobDeliver, s.retryDeliver)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
