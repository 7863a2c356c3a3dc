// Package app wires Storykeep together: configuration, database and
// migrations, keys, services and the web server. cmd/storykeep calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/cdn"
	"github.com/storykeep/storykeep/app/comments"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/handoff"
	"github.com/storykeep/storykeep/app/interviews"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/app/organisation"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/pdfseal"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/app/retention"
	"github.com/storykeep/storykeep/app/sso"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/app/web"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/app/workflow"
)

// App is a running Storykeep: its services and its web server.
type App struct {
	Config *config.Config
	DB     *gorm.DB
	Log    *slog.Logger
	Keys   *crypto.Keyring
	Audit  *audit.Log
	Authz  *authz.Enforcer
	Users  *users.Service
	// Patients, Interviews and Comments: issue 3's patient side.
	Patients   *patients.Service
	Interviews *interviews.Service
	Comments   *comments.Service
	// Stories asks Consent whether a consent covers a story and tells it
	// when covered content changes.
	Stories *stories.Service
	Web     *web.Server
	Store   storage.Store
	Jobs    *jobs.Queue
	// Media keeps photo, video and audio rows and objects consistent.
	Media *assets.Service
	// Export posts approved stories to social channels and takes them down;
	// its Gate is DenyAll until a consent gate is assigned.
	Export *export.Service
	// Consent runs HIPAA authorizations; it is the stories service's
	// consent checker and hooks. Templates are its form texts.
	Consent   *consent.Service
	Templates *consent.Templates
	Mail      mail.Sender
	// reader is SQLite's read-only pool (nil on PostgreSQL): consent checks
	// inside a transition (see consent.Deps.Reader), lists and searches.
	reader *gorm.DB
	// Website publishes stories to the public site; its Gate is the
	// consent capability's answer, asked on every public request.
	Website *website.Service
	// PublicCache keeps the public website's rendered responses until
	// anything they were made from changes (docs/public-cache.md); its
	// OnWithdraw hooks hear of every withdrawn story's public addresses.
	PublicCache *publiccache.Cache
	// SSO is the staff identity provider (nil when single sign-on is off).
	SSO *sso.Client
	// Retention keeps consent evidence for the retention period, honours
	// legal holds and purges what has passed (issue 24).
	Retention *retention.Service
	// CDN purges a withdrawn story's public addresses from the CDN in front
	// of the website (issue 23; it does nothing when none is configured).
	CDN *cdn.Service
	// Anchorer writes the audit chain's head outside the database.
	Anchorer *audit.Anchorer
}

// NewLogger returns the structured logger the config asks for.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenDB opens the configured database.
func OpenDB(cfg *config.Config) (*gorm.DB, error) {
	dbc, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	return db.Open(dbc)
}

// OpenStore returns the configured object store: local disk by default, or
// S3 (MinIO, AWS…). The S3 bucket is created when allowed; readiness is
// reported by /readyz.
func OpenStore(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	if cfg.MediaBackend == "s3" {
		st, err := storage.NewS3(ctx, storage.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseTLS: cfg.S3UseTLS, PathStyle: cfg.S3PathStyle, CreateBucket: cfg.S3CreateBucket, LockMode: cfg.S3LockMode})
		if err != nil {
			return nil, fmt.Errorf("object storage (STORYKEEP_S3_*): %w", err)
		}
		// Whether the bucket has Object Lock is asked once at start; if the
		// server cannot be reached yet it is asked again when first needed.
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, _ = st.DetectLock(dctx)
		return st, nil
	}
	st, err := storage.NewLocal(cfg.MediaDir)
	if err != nil {
		return nil, fmt.Errorf("STORYKEEP_MEDIA_DIR %s: %w", cfg.MediaDir, err)
	}
	return st, nil
}

// New opens the database, applies migrations, and builds every service and
// the web server.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("STORYKEEP_DATA_DIR %s cannot be created: %w", cfg.DataDir, err)
	}
	gdb, err := OpenDB(cfg)
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx, gdb)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("database migrated", "applied", n)
	}
	keys, err := crypto.LoadOrCreate(cfg.EncryptionKeys, filepath.Join(cfg.DataDir, "keys"))
	if err != nil {
		return nil, fmt.Errorf("STORYKEEP_ENCRYPTION_KEYS: %w", err)
	}
	if err := CheckDataKey(ctx, gdb, keys); err != nil {
		if s, serr := gdb.DB(); serr == nil {
			_ = s.Close()
		}
		return nil, err
	}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: gdb, Log: log, Keys: keys, Store: store}
	a.Audit = audit.New(gdb)
	if a.Anchorer, err = NewAnchorer(cfg, a.Audit); err != nil {
		return nil, err
	}
	a.Anchorer.Logger = log
	a.Jobs = jobs.New(gdb, log)
	a.Jobs.SetReplica(replicaID(cfg))
	a.Media = assets.New(gdb, store, a.Audit, media.Options{})
	a.Media.Jobs = a.Jobs
	a.Media.Log = log
	a.Media.SetLimits(int64(cfg.MaxImageMB)<<20, int64(cfg.MaxAudioMB)<<20, int64(cfg.MaxVideoMB)<<20)
	media.SetDecodeBudget(int64(cfg.ImageDecodeBudgetMB) << 20)
	a.Media.SetUploadQuota(assets.UploadQuota{MaxOpenPerUser: cfg.UploadMaxOpenPerUser, MaxStagedPerUser: int64(cfg.UploadMaxStagedMBPerUser) << 20,
		MaxStagedTotal: int64(cfg.UploadMaxStagedMBTotal) << 20, StaleAfter: cfg.UploadStaleAfter})
	a.Jobs.Handle(assets.JobRenditions, a.Media.HandleRenditions)
	a.Jobs.Handle(assets.JobSweepUploads, a.Media.HandleSweepUploads)
	if err := a.Media.ScheduleUploadSweep(ctx, time.Now().UTC().Add(time.Hour)); err != nil {
		return nil, err
	}
	if a.Authz, err = authz.New(gdb); err != nil {
		return nil, err
	}
	a.Users = users.New(gdb, a.Audit, keys, users.Limits{PerAccount: cfg.LoginMaxFailures, PerIP: cfg.LoginIPMaxFailures, Window: cfg.LoginWindow})
	if a.SSO, err = sso.New(cfg); err != nil {
		return nil, err
	}
	if !cfg.LocalPasswords {
		a.Users.RestrictPasswords(func(email string) bool { return email == cfg.BreakGlassEmail })
	}
	a.Patients = patients.New(gdb, a.Audit, keys)
	a.Interviews = interviews.New(gdb, a.Audit)
	a.Comments = comments.New(gdb, a.Audit)
	if a.Mail, err = mail.New(cfg, log); err != nil {
		return nil, err
	}
	a.Templates = consent.NewTemplates(gdb, a.Audit)
	if err := a.Templates.EnsureDefaults(audit.WithActor(ctx, audit.System)); err != nil {
		return nil, fmt.Errorf("consent form templates: %w", err)
	}
	dbc, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	if a.reader, err = db.OpenReader(dbc, max(2, runtime.NumCPU())); err != nil {
		return nil, err
	}
	a.Consent = consent.New(consent.Deps{DB: gdb, Reader: a.reader, Audit: a.Audit, Keys: keys, Templates: a.Templates, Patients: a.Patients, Media: a.Media,
		Store: store, Jobs: a.Jobs, Mail: a.Mail, Log: log, Settings: consent.Settings{PublicURL: cfg.PublicURL, OrganisationName: cfg.OrganisationName,
			LinkDays: cfg.ConsentLinkDays, MaxYears: cfg.ConsentMaxYears, ReminderDays: cfg.ConsentReminderDays,
			PatientNoticeDays: cfg.ConsentNoticeDays, AgeOfMajority: cfg.ConsentAgeOfMajority, AssentAge: cfg.ConsentAssentAge, KeepAtMajority: cfg.ConsentKeepAtMajority}})
	a.Consent.Organisation = organisation.New(gdb, a.Audit)
	if a.Consent.Sealer, err = NewSealer(cfg); err != nil {
		return nil, err
	}
	a.Website = website.New(gdb, a.Audit)
	a.CDN = cdn.New(cfg.CDN, cdn.Deps{DB: gdb, Audit: a.Audit, Jobs: a.Jobs, Log: log, PublicURL: cfg.PublicURL, AllowHosts: strings.Split(cfg.OutboundAllowHosts, ",")})
	a.CDN.Register(a.Jobs)
	if a.CDN.On() {
		a.Website.Purge = a.CDN
	}
	handoffs := handoff.Notifier{Jobs: a.Jobs, Mail: a.Mail, DB: gdb, PublicURL: cfg.PublicURL}
	handoffs.Register(a.Jobs)
	a.Stories = stories.New(gdb, a.Audit, a.Consent, workflow.MultiHooks{a.Consent, a.Website, handoffs})
	if a.reader != nil {
		a.Stories.UseReader(a.reader)
	}
	// Legal's approval (channels, not-before) and the patient's consent are
	// both asked at the moment of every disclosure.
	gate := stories.ApprovalGate{Consent: a.Consent, Stories: a.Stories}
	a.Website.Gate = gate
	a.PublicCache = publiccache.New(ctx, gdb, a.reader, dbc.Driver, dbc.DSN, website.Bounds(gdb), log)
	a.PublicCache.PublicURL = cfg.PublicURL
	a.Website.Cache = a.PublicCache
	a.Consent.Stories = a.Stories
	// Media bound by any consent record or request is kept for the
	// retention period after the consent ends, and under legal hold.
	a.Retention = retention.New(gdb, a.Audit, store, a.Media, cfg.RetentionYears)
	a.Retention.SetLogger(log)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	log.Info("write-once evidence", "object_lock", a.Retention.WriteOnce(wctx).String())
	wcancel()
	a.Retention.Register(a.Jobs)
	if err := a.Retention.ScheduleReport(ctx, time.Now().UTC().Add(time.Hour)); err != nil {
		return nil, err
	}
	a.Media.Binder = a.Retention
	a.Media.Described = a.Consent
	a.Jobs.Handle(consent.JobMail, a.Consent.HandleMail)
	a.Jobs.Handle(consent.JobMajorityMail, a.Consent.HandleMajorityMail)
	a.Jobs.Handle(consent.JobCertificate, a.Consent.HandleCertificate)
	a.Jobs.Handle(consent.JobRevoked, a.Consent.HandleRevoked)
	a.Jobs.Handle(consent.JobSweep, a.Consent.HandleSweep)
	a.Jobs.Handle(consent.JobPatientNotice, a.Consent.HandlePatientNotice)
	a.Jobs.Handle(stories.JobOptimizeSearch, a.Stories.OptimizeSearchJob(a.Jobs))
	if err := stories.ScheduleSearchOptimize(ctx, a.Jobs, time.Now()); err != nil {
		return nil, err
	}
	if err := a.Consent.ScheduleSweep(ctx, time.Now().UTC().Add(time.Minute)); err != nil {
		return nil, err
	}
	a.Comments.StoryExists = func(ctx context.Context, id string) (bool, error) {
		_, err := a.Stories.Get(ctx, id)
		if e, ok := apperr.As(err); ok && e.Status == http.StatusNotFound {
			return false, nil
		}
		return err == nil, err
	}
	a.Export = export.New(export.Deps{AllowHosts: strings.Split(cfg.OutboundAllowHosts, ","), DB: gdb, Audit: a.Audit, Keys: keys, Jobs: a.Jobs, Stories: a.Stories, Store: store, Log: log, PublicURL: cfg.PublicURL})
	a.Export.Register(a.Jobs)
	// Consent is the gate every delivery passes at send time, supplies the
	// certificate for export bundles, and takes posts down when it ends.
	a.Export.Gate = gate
	a.Export.Certificates = storyCertificates{a.Consent}
	a.Consent.Takedown = a.Export
	a.Web, err = web.New(web.Deps{Keys: keys, Config: cfg, DB: gdb, Reader: a.reader, Log: log, Users: a.Users, Audit: a.Audit, Authz: a.Authz, Stories: a.Stories, Jobs: a.Jobs, Media: a.Media, Store: store,
		Patients: a.Patients, Interviews: a.Interviews, Comments: a.Comments, Consent: a.Consent, Templates: a.Templates, Website: a.Website, Export: a.Export, SSO: a.SSO, Mail: a.Mail, CDN: a.CDN, Retention: a.Retention, PublicCache: a.PublicCache,
		Ready: map[string]func(context.Context) error{"storage": store.Ready}})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Close releases the database and the object store.
func (a *App) Close() error {
	// What this process recorded is linked into the audit chain before it
	// lets go of the database (a command, or a server after its drain).
	if _, err := a.Audit.Link(context.Background()); err != nil && a.Log != nil {
		a.Log.Warn("audit entries left for the next chaining run", "err", err)
	}
	a.PublicCache.Close()
	if c, ok := a.Store.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	if a.reader != nil {
		if r, err := a.reader.DB(); err == nil {
			_ = r.Close()
		}
	}
	s, err := a.DB.DB()
	if err != nil {
		return err
	}
	return s.Close()
}

// HTTPServer is the server Serve runs, with its time limits: headers must
// arrive within 10 s (slow-header clients, F4); a non-upload body has its own
// deadline (web.readBody); ReadTimeout bounds a whole upload.
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           a.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Serve listens on the configured address until ctx is cancelled, then shuts
// down gracefully, letting requests in flight finish. ready, if not nil,
// receives the bound address once listening.
func (a *App) Serve(ctx context.Context, ready chan<- string) error {
	ln, err := net.Listen("tcp", a.Config.ListenAddr)
	if err != nil {
		return fmt.Errorf("STORYKEEP_LISTEN %s: %w", a.Config.ListenAddr, err)
	}
	srv := a.HTTPServer()
	go a.housekeeping(ctx)
	// The audit chain: new entries linked every few seconds, and the head
	// anchored outside the database every few minutes, each by one
	// replica at a time (once more at shutdown, after the jobs).
	go a.Audit.RunLinker(ctx, a.Config.AuditLinkInterval, a.Log)
	go a.Anchorer.Run(ctx, a.Config.AuditAnchorInterval)
	if _, err := a.Jobs.ReleaseReplica(ctx); err != nil {
		a.Log.Warn("jobs of the previous process not released; they wait out their leases", "err", err)
	}
	a.Jobs.Start(2*time.Second, JobLanes(a.Config.Workers)...)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("storykeep listening", "addr", ln.Addr().String(), "public_url", a.Config.PublicURL, "version", web.Version)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "grace", a.Config.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownGrace)
	defer cancel()
	// Requests and jobs in flight share the grace: job workers claim
	// nothing new, finish and record what they hold, and release the rest.
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- a.Jobs.Stop(sctx) }()
	herr := srv.Shutdown(sctx)
	if err := <-jobsDone; err != nil {
		a.Log.Warn("job workers stopped with an error", "err", err)
	}
	lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
	if _, err := a.Audit.Link(lctx); err != nil {
		a.Log.Warn("audit: linking entries at shutdown", "err", err)
	}
	lcancel()
	if herr != nil {
		return fmt.Errorf("shutdown: %w", herr)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.Log.Info("stopped")
	return nil
}

// JobLanes gives patient-facing mail its own workers, so it never waits
// behind deliveries to slow receivers, and deliveries their own, so
// renditions and sweeps do not wait behind them either.
func JobLanes(workers int) []jobs.Lane {
	return []jobs.Lane{
		{Name: "patient", Workers: 2, Kinds: []string{consent.JobMail, consent.JobCertificate, consent.JobRevoked, consent.JobPatientNotice, handoff.JobMail, cdn.JobPurge, consent.JobMajorityMail}},
		{Name: "deliveries", Workers: workers, Kinds: []string{export.JobDeliver, export.JobDelete}},
		{Name: "default", Workers: workers},
	}
}

func replicaID(cfg *config.Config) string {
	if cfg.ReplicaID != "" {
		return cfg.ReplicaID
	}
	host, _ := os.Hostname()
	return host + "@" + cfg.ListenAddr
}

// housekeeping removes expired sessions and reloads policies every few
// minutes, so a role change on one replica reaches the others.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Web.DeleteExpiredSessions(ctx); err != nil {
				a.Log.Warn("deleting expired sessions", "err", err)
			}
			if err := a.Authz.Reload(); err != nil {
				a.Log.Warn("reloading policies", "err", err)
			}
		}
	}
}

// storyCertificates adapts consent certificates to the export bundle.
type storyCertificates struct{ c *consent.Service }

// Certificate implements export.CertificateSource.
func (s storyCertificates) Certificate(ctx context.Context, storyID string) (string, []byte, error) {
	return s.c.StoryCertificate(ctx, storyID)
}

// NewSealer loads (or creates on first run) the organisation's certificate
// seal key, like the data key.
func NewSealer(cfg *config.Config) (*pdfseal.Sealer, error) {
	dir := cfg.SealKeyDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "keys")
	}
	key, cert, err := pdfseal.LoadOrCreate(dir, cfg.OrganisationName)
	if err != nil {
		return nil, fmt.Errorf("certificate seal key: %w", err)
	}
	return &pdfseal.Sealer{Key: key, Cert: cert, TSAURL: cfg.TSAURL, Name: cfg.OrganisationName}, nil
}
