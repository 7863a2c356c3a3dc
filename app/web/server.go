// Package web is Storykeep's HTTP layer: one route table in which each route
// names the permission it needs, small handlers that call services, the
// middleware chain (request id, access log, recover, security headers,
// compression, sessions, CSRF) and the friendly error pages.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/cdn"
	"github.com/storykeep/storykeep/app/comments"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/interviews"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/publiccache"
	"github.com/storykeep/storykeep/app/retention"
	"github.com/storykeep/storykeep/app/sso"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/static"
)

// Version is the build's version, set by the linker (-X) or left as "dev".
var Version = "dev"

// Deps are what the web layer needs from the application.
type Deps struct {
	Config *config.Config
	DB     *gorm.DB
	// Reader is SQLite's read-only pool (nil on PostgreSQL); sessions are
	// looked up through it.
	Reader *gorm.DB
	Log    *slog.Logger
	Users  *users.Service
	Audit  *audit.Log
	Authz  *authz.Enforcer
	Jobs   *jobs.Queue
	// Media uploads, describes and serves photos, video and recordings.
	Media *assets.Service
	// Store is the object store media is streamed from.
	Store storage.Store
	// Ready checks dependencies beyond the database (object storage…) for /readyz.
	Ready map[string]func(context.Context) error
	// Patients, Interviews and Comments serve the patient screens, the
	// interview schedule, story comments and the inbox.
	Patients   *patients.Service
	Interviews *interviews.Service
	Comments   *comments.Service
	// Stories serves stories, revisions, the workflow and search.
	Stories *stories.Service
	// Consent sends consent requests and serves the patient's pages.
	Consent *consent.Service
	// Templates are the consent form texts admins maintain.
	Templates *consent.Templates
	// Export serves the publishing panel, channel accounts and short links.
	Export *export.Service
	// Website serves the public story pages, feeds and sitemap.
	Website *website.Service
	// CDN purges withdrawn stories from the CDN; Admin → Jobs lists the
	// purges not done (nil or off: no CDN).
	CDN *cdn.Service
	// Retention serves the retention and legal hold page (nil: the page
	// says it is not available).
	Retention *retention.Service
	// PublicCache keeps rendered public responses (nil: none).
	PublicCache *publiccache.Cache
	// SSO is the staff identity provider (nil when single sign-on is off).
	SSO *sso.Client
	// Mail sends invitation and password-reset links.
	Mail mail.Sender
	// Keys derive the CSRF signing key; nil means a random key per process
	// (tests that build the server alone).
	Keys *crypto.Keyring
}

// Server holds the handlers' dependencies; handlers are its methods.
type Server struct {
	cfg      *config.Config
	db       *gorm.DB
	log      *slog.Logger
	users    *users.Service
	audit    *audit.Log
	authz    *authz.Enforcer
	jobs     *jobs.Queue
	media    *assets.Service
	store    storage.Store
	sessions *scs.SessionManager
	csrf     *csrfGuard
	// sessionStore is the database store behind sessions.
	sessionStore *auth.SessionStore
	renderer     *Renderer
	assets       *static.Assets
	metrics      *metrics
	ready        map[string]func(context.Context) error
	echo         *echo.Echo

	patients   *patients.Service
	interviews *interviews.Service
	comments   *comments.Service
	stories    *stories.Service
	consent    *consent.Service
	templates  *consent.Templates
	export     *export.Service
	website    *website.Service
	cdn        *cdn.Service
	retention  *retention.Service
	pcache     *publiccache.Cache
	landing    landingPages         // consent links' identity check pages
	verifier   *disclosure.Verifier // checks public image bytes (cached)
	sso        *sso.Client
	mail       mail.Sender
}

// New builds the server and its router. It fails if any template is broken.
func New(d Deps) (*Server, error) {
	assets, err := static.Load()
	if err != nil {
		return nil, err
	}
	r, err := NewRenderer(assets)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: d.Config, db: d.DB, log: d.Log, users: d.Users, audit: d.Audit, authz: d.Authz, jobs: d.Jobs, media: d.Media, store: d.Store,
		renderer: r, assets: assets, metrics: newMetrics(), ready: d.Ready}
	s.patients, s.interviews, s.comments = d.Patients, d.Interviews, d.Comments
	s.stories = d.Stories
	s.consent = d.Consent
	s.templates = d.Templates
	s.export = d.Export
	s.website = d.Website
	s.cdn = d.CDN
	s.retention = d.Retention
	s.pcache = d.PublicCache
	s.verifier = disclosure.NewVerifier(d.Store, d.Audit)
	s.sso, s.mail = d.SSO, d.Mail

	sm := scs.New()
	s.sessionStore = auth.NewSessionStore(d.DB)
	if d.Reader != nil {
		s.sessionStore.UseReader(d.Reader)
	}
	sm.Store = s.sessionStore
	sm.Codec = auth.SessionCodec{}
	sm.Lifetime = d.Config.SessionLifetime
	sm.IdleTimeout = d.Config.SessionIdleTimeout
	sm.Cookie.Name = "storykeep_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.Secure = d.Config.CookieSecure
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Persist = false
	sm.ErrorFunc = s.sessionError
	s.sessions = sm

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if d.Config.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	// The middleware chain is built once, here. Echo would build it again
	// for every request (it calls each middleware's constructor per
	// request), which cost each request about a dozen allocations; the
	// chain ends by calling the handler the router found for the request.
	var chain []echo.MiddlewareFunc
	use := func(mw echo.MiddlewareFunc) { chain = append(chain, mw) }
	use(middleware.RequestID())
	use(s.accessLog)
	// Before anything slow: a request's body is read (bounded in size and
	// time) and its CSRF token checked before it takes an admission slot (F4).
	use(readBody)
	// Outside Recover, so a panic's error page is written inside the
	// compressing writer of its own request (see compress).
	gz, err := compress()
	if err != nil {
		return nil, err
	}
	use(gz)
	use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "stack", string(stack))
		return err
	}}))
	use(s.securityHeaders)
	s.csrf = &csrfGuard{secure: d.Config.CookieSecure, sm: sm}
	if d.Keys != nil {
		s.csrf.key = d.Keys.MACKey("csrf")
	} else {
		s.csrf.key = []byte(newNonce())
	}
	use(s.csrf.middleware)
	n := maxConcurrent(d.Config)
	use(newAdmission(n, maxPerIP(d.Config, n), 10*time.Second, s.metrics.reg).middleware)
	use(skipFor(stateless, echo.WrapMiddleware(func(next http.Handler) http.Handler {
		load := sm.LoadAndSave(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := context.WithValue(auth.WithSessionUser(r.Context()), sessionLoadedKey{}, true)
			load.ServeHTTP(w, r.WithContext(ctx))
		})
	})))
	use(skipFor(stateless, s.loadUser))
	use(newUploadLane(maxConcurrentUploads(d.Config), 30*time.Second, s.metrics.reg).middleware)
	routed := echo.HandlerFunc(func(c echo.Context) error { return c.Handler()(c) })
	for i := len(chain) - 1; i >= 0; i-- {
		routed = chain[i](routed)
	}
	e.Use(func(echo.HandlerFunc) echo.HandlerFunc { return routed })
	for _, rt := range s.routes() {
		e.Add(rt.Method, rt.Path, s.require(rt.Perm, rt.Handler))
	}
	s.echo = e
	return s, nil
}

// stateless routes answer without a session, CSRF cookie or user: probes,
// metrics and static files must work (and stay cheap) even when the database
// behind the sessions is down.
var stateless = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/static/:hash/*": true, "/favicon.ico": true}

func skipFor(paths map[string]bool, mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		wrapped := mw(next)
		return func(c echo.Context) error {
			if paths[c.Path()] {
				return next(c)
			}
			return wrapped(c)
		}
	}
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router (for tests listing routes).
func (s *Server) Echo() *echo.Echo { return s.echo }

// DeleteExpiredSessions removes expired session rows.
func (s *Server) DeleteExpiredSessions(ctx context.Context) error {
	return s.sessionStore.DeleteExpired(ctx)
}
