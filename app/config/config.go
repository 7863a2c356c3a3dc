// Package config holds Storykeep's typed settings. Every setting has a default
// in code, can be overridden by a STORYKEEP_* environment variable and then by
// a command-line flag, and secrets can be read from a file named by the
// matching *_FILE variable so they never have to sit in the environment.
package config

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole typed configuration. Fields are filled by Load.
type Config struct {
	ListenAddr   string
	PublicURL    string
	DataDir      string
	DatabaseURL  string
	MediaBackend string
	MediaDir     string
	MaxImageMB   int
	MaxAudioMB   int
	MaxVideoMB   int

	S3Endpoint     string
	S3Bucket       string
	S3Region       string
	S3AccessKey    string
	S3SecretKey    string
	S3UseTLS       bool
	S3PathStyle    bool
	S3CreateBucket bool
	// S3LockMode is the Object Lock mode evidence is kept in when the
	// bucket has Object Lock (compliance or governance; docs/retention.md).
	S3LockMode string

	SessionLifetime    time.Duration
	SessionIdleTimeout time.Duration
	CookieSecure       bool
	RequireAdmin2FA    bool
	TrustProxy         bool

	LoginMaxFailures   int
	LoginIPMaxFailures int
	LoginWindow        time.Duration

	EncryptionKeys string
	// SealKeyDir holds the certificate seal key and certificate (seal.key,
	// seal.crt), created on first run; empty means DATA_DIR/keys.
	SealKeyDir string
	// TSAURL is the RFC 3161 timestamp authority the certificate seal asks.
	TSAURL        string
	MetricsToken  string
	AdminEmail    string
	LogLevel      string
	LogFormat     string
	ShutdownGrace time.Duration
	Workers       int
	ReplicaID     string
	// MaxConcurrentRequests is how many page requests run at once; more wait
	// in arrival order (see web/limit.go).
	MaxConcurrentRequests int
	// MaxRequestsPerIP is how many of those one client IP may hold (F4).
	MaxRequestsPerIP int
	// OutboundAllowHosts are channel hosts Storykeep may send to although
	// they resolve to internal addresses (comma-separated; F16).
	OutboundAllowHosts string
	// ImageDecodeBudgetMB is the memory all image decodes may hold at once
	// (media.SetDecodeBudget); MaxConcurrentUploads is the uploads' own
	// admission lane (web/limit_uploads.go), 0 for automatic.
	ImageDecodeBudgetMB  int
	MaxConcurrentUploads int
	// Resumable upload quota (assets.UploadQuota, finding F17).
	UploadMaxOpenPerUser     int
	UploadMaxStagedMBPerUser int
	UploadMaxStagedMBTotal   int
	UploadStaleAfter         time.Duration

	MailMode     string
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string

	// Consent (issue 5): link life, the latest expiration a patient may
	// choose, the organisation named on forms, and reminder days.
	ConsentLinkDays     int
	ConsentMaxYears     int
	OrganisationName    string
	ConsentReminderDays []int
	// ConsentNoticeDays: days before a consent ends on which the patient
	// is told (issue 19 item 5).
	ConsentNoticeDays []int
	// Minors (issue 19 item 7).
	ConsentAgeOfMajority  int
	ConsentAssentAge      int
	ConsentKeepAtMajority bool

	// RetentionYears is how long consent evidence is kept after each
	// record ends (issue 24); see docs/retention.md.
	RetentionYears int

	// The audit chain (issues 21 and 24; docs/audit.md): how often new
	// entries are linked, how often the chain head is anchored outside the
	// database, and the syslog endpoint anchors are also sent to.
	AuditLinkInterval   time.Duration
	AuditAnchorInterval time.Duration
	AuditSyslog         string

	// SiteTitle names the public website (issue 6) in its pages and feeds.
	SiteTitle string

	// Staff single sign-on with OpenID Connect (issue 25); see docs/sso.md.
	// SSO is on when OIDCIssuer is set.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCScopes       string
	OIDCGroupsClaim  string
	OIDCProviderName string
	OIDCRoleMap      string // group=role,group=role
	OIDCCreateUsers  bool
	OIDCHelpContact  string
	LocalPasswords   bool
	BreakGlassEmail  string
	InviteLinkHours  int
	ResetLinkMinutes int

	// CDN is the CDN in front of the public website and its purge API
	// (issue 23; config/cdn.go, docs/cdn.md).
	CDN CDN

	effective map[string]string // setting name -> value after env and flags, for Redacted
}

// Setting describes one configuration value: its name, environment variable,
// default, whether it is secret (redacted, *_FILE supported) and what it does.
type Setting struct {
	Name    string
	Env     string
	Default string
	Secret  bool
	Help    string
	bind    func(c *Config, v string) error
}

func str(f func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func boolean(f func(c *Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", v)
		}
		*f(c) = b
		return nil
	}
}

func integer(f func(c *Config) *int) func(*Config, string) error {
	return atLeast(1, "a whole number of at least 1", f)
}

// countOrAuto is integer that also takes 0, meaning "choose for me".
func countOrAuto(f func(c *Config) *int) func(*Config, string) error {
	return atLeast(0, "a whole number (0 for automatic)", f)
}

func atLeast(min int, what string, f func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("must be %s, got %q", what, v)
		}
		*f(c) = n
		return nil
	}
}

func duration(f func(c *Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 30m or 12h, got %q", v)
		}
		*f(c) = d
		return nil
	}
}

// oneOf accepts only the listed values, so a typo in a mode setting stops the
// start instead of silently picking a default.
func oneOf(f func(c *Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*f(c) = v
				return nil
			}
		}
		return fmt.Errorf("must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

// Settings lists every setting Storykeep knows, in the order the README table shows them.
var Settings = []Setting{
	{Name: "listen", Env: "STORYKEEP_LISTEN", Default: "127.0.0.1:8080", Help: "address the web server listens on", bind: str(func(c *Config) *string { return &c.ListenAddr })},
	{Name: "public-url", Env: "STORYKEEP_PUBLIC_URL", Default: "http://127.0.0.1:8080", Help: "URL people use to reach Storykeep (links in emails, QR codes); unset, http:// and the listen address", bind: str(func(c *Config) *string { return &c.PublicURL })},
	{Name: "data-dir", Env: "STORYKEEP_DATA_DIR", Default: "./data", Help: "directory for the SQLite database, local media and generated keys", bind: str(func(c *Config) *string { return &c.DataDir })},
	{Name: "database-url", Env: "STORYKEEP_DATABASE_URL", Default: "", Secret: true, Help: "postgres://… to use PostgreSQL; empty means SQLite at DATA_DIR/storykeep.db; sqlite:PATH for another file", bind: str(func(c *Config) *string { return &c.DatabaseURL })},
	{Name: "media-backend", Env: "STORYKEEP_MEDIA_BACKEND", Default: "local", Help: "where media is stored: local or s3", bind: str(func(c *Config) *string { return &c.MediaBackend })},
	{Name: "media-dir", Env: "STORYKEEP_MEDIA_DIR", Default: "", Help: "directory for local media (default DATA_DIR/media)", bind: str(func(c *Config) *string { return &c.MediaDir })},
	{Name: "max-image-mb", Env: "STORYKEEP_MAX_IMAGE_MB", Default: "30", Help: "largest photo accepted, in MB", bind: integer(func(c *Config) *int { return &c.MaxImageMB })},
	{Name: "max-audio-mb", Env: "STORYKEEP_MAX_AUDIO_MB", Default: "500", Help: "largest audio recording accepted, in MB", bind: integer(func(c *Config) *int { return &c.MaxAudioMB })},
	{Name: "max-video-mb", Env: "STORYKEEP_MAX_VIDEO_MB", Default: "4096", Help: "largest video accepted, in MB", bind: integer(func(c *Config) *int { return &c.MaxVideoMB })},
	{Name: "s3-endpoint", Env: "STORYKEEP_S3_ENDPOINT", Default: "", Help: "S3 endpoint host:port (MinIO, AWS, any S3-compatible server)", bind: str(func(c *Config) *string { return &c.S3Endpoint })},
	{Name: "s3-bucket", Env: "STORYKEEP_S3_BUCKET", Default: "storykeep", Help: "bucket for media objects", bind: str(func(c *Config) *string { return &c.S3Bucket })},
	{Name: "s3-region", Env: "STORYKEEP_S3_REGION", Default: "us-east-1", Help: "bucket region", bind: str(func(c *Config) *string { return &c.S3Region })},
	{Name: "s3-access-key", Env: "STORYKEEP_S3_ACCESS_KEY", Default: "", Secret: true, Help: "S3 access key", bind: str(func(c *Config) *string { return &c.S3AccessKey })},
	{Name: "s3-secret-key", Env: "STORYKEEP_S3_SECRET_KEY", Default: "", Secret: true, Help: "S3 secret key", bind: str(func(c *Config) *string { return &c.S3SecretKey })},
	{Name: "s3-tls", Env: "STORYKEEP_S3_TLS", Default: "true", Help: "use HTTPS to reach the S3 endpoint", bind: boolean(func(c *Config) *bool { return &c.S3UseTLS })},
	{Name: "s3-path-style", Env: "STORYKEEP_S3_PATH_STYLE", Default: "true", Help: "path-style bucket addressing (MinIO) instead of virtual-host style", bind: boolean(func(c *Config) *bool { return &c.S3PathStyle })},
	{Name: "s3-lock-mode", Env: "STORYKEEP_S3_LOCK_MODE", Default: "compliance", Help: "Object Lock mode for consent evidence when the bucket has Object Lock: compliance (nobody can delete it early, not even the root account) or governance (an account allowed to bypass governance can)", bind: str(func(c *Config) *string { return &c.S3LockMode })},
	{Name: "s3-create-bucket", Env: "STORYKEEP_S3_CREATE_BUCKET", Default: "false", Help: "create the bucket at start if it is missing", bind: boolean(func(c *Config) *bool { return &c.S3CreateBucket })},
	{Name: "session-lifetime", Env: "STORYKEEP_SESSION_LIFETIME", Default: "12h", Help: "a staff session ends this long after sign-in", bind: duration(func(c *Config) *time.Duration { return &c.SessionLifetime })},
	{Name: "session-idle-timeout", Env: "STORYKEEP_SESSION_IDLE_TIMEOUT", Default: "30m", Help: "a staff session ends after this long without a request", bind: duration(func(c *Config) *time.Duration { return &c.SessionIdleTimeout })},
	{Name: "cookie-secure", Env: "STORYKEEP_COOKIE_SECURE", Default: "auto", Help: "Secure flag on cookies: true, false, or auto (true when PUBLIC_URL is https)", bind: nil},
	{Name: "require-admin-2fa", Env: "STORYKEEP_REQUIRE_ADMIN_2FA", Default: "false", Help: "admins must enrol in TOTP two-factor sign-in before using Storykeep", bind: boolean(func(c *Config) *bool { return &c.RequireAdmin2FA })},
	{Name: "trust-proxy", Env: "STORYKEEP_TRUST_PROXY", Default: "false", Help: "take the client IP from X-Forwarded-For (only behind a load balancer you run)", bind: boolean(func(c *Config) *bool { return &c.TrustProxy })},
	{Name: "login-max-failures", Env: "STORYKEEP_LOGIN_MAX_FAILURES", Default: "5", Help: "failed sign-ins per account within the window before it is locked for the rest of the window", bind: integer(func(c *Config) *int { return &c.LoginMaxFailures })},
	{Name: "login-ip-max-failures", Env: "STORYKEEP_LOGIN_IP_MAX_FAILURES", Default: "20", Help: "failed sign-ins per client IP within the window", bind: integer(func(c *Config) *int { return &c.LoginIPMaxFailures })},
	{Name: "login-window", Env: "STORYKEEP_LOGIN_WINDOW", Default: "15m", Help: "window for counting failed sign-ins", bind: duration(func(c *Config) *time.Duration { return &c.LoginWindow })},
	{Name: "encryption-keys", Env: "STORYKEEP_ENCRYPTION_KEYS", Default: "", Secret: true, Help: "data keys as id:base64(32 bytes), comma-separated, newest first; empty means a key generated once in DATA_DIR/keys", bind: str(func(c *Config) *string { return &c.EncryptionKeys })},
	{Name: "seal-key-dir", Env: "STORYKEEP_SEAL_KEY_DIR", Default: "", Help: "directory of the consent certificate seal key and certificate (seal.key, seal.crt), generated on first run; empty means DATA_DIR/keys", bind: str(func(c *Config) *string { return &c.SealKeyDir })},
	{Name: "tsa-url", Env: "STORYKEEP_TSA_URL", Default: "", Help: "RFC 3161 timestamp authority URL for the consent certificate seal; empty seals without a trusted timestamp", bind: str(func(c *Config) *string { return &c.TSAURL })},
	{Name: "metrics-token", Env: "STORYKEEP_METRICS_TOKEN", Default: "", Secret: true, Help: "bearer token that /metrics requires; empty disables /metrics", bind: str(func(c *Config) *string { return &c.MetricsToken })},
	{Name: "admin-email", Env: "STORYKEEP_ADMIN_EMAIL", Default: "admin@storykeep.local", Help: "email of the first admin created on an empty database", bind: str(func(c *Config) *string { return &c.AdminEmail })},
	{Name: "log-level", Env: "STORYKEEP_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error", bind: str(func(c *Config) *string { return &c.LogLevel })},
	{Name: "log-format", Env: "STORYKEEP_LOG_FORMAT", Default: "text", Help: "text or json", bind: str(func(c *Config) *string { return &c.LogFormat })},
	{Name: "workers", Env: "STORYKEEP_WORKERS", Default: "2", Help: "background job workers in this replica (renditions, reminders, deliveries)", bind: integer(func(c *Config) *int { return &c.Workers })},
	{Name: "replica-id", Env: "STORYKEEP_REPLICA_ID", Default: "", Help: "name of this replica, the same across its restarts and different from every other replica's, so a restart frees the jobs its previous process held; empty: host name and listen address", bind: str(func(c *Config) *string { return &c.ReplicaID })},
	{Name: "max-concurrent-requests", Env: "STORYKEEP_MAX_CONCURRENT_REQUESTS", Default: "0", Help: "page requests handled at once by this replica; more wait their turn (up to 10 s, then 503). Streams and probes are not counted. 0: 2 per CPU core on SQLite, 4 on PostgreSQL", bind: countOrAuto(func(c *Config) *int { return &c.MaxConcurrentRequests })},
	{Name: "max-requests-per-ip", Env: "STORYKEEP_MAX_REQUESTS_PER_IP", Default: "0", Help: "page requests one client IP may have handled at once; its others wait. 0: half of max-concurrent-requests (at least 1). Behind a proxy, set trust-proxy so clients are told apart", bind: countOrAuto(func(c *Config) *int { return &c.MaxRequestsPerIP })},
	{Name: "outbound-allow-hosts", Env: "STORYKEEP_OUTBOUND_ALLOW_HOSTS", Default: "", Help: "comma-separated host names (or IPs) that channel URLs may use although they resolve to loopback, private or link-local addresses, e.g. an on-premises Mastodon; others are refused", bind: str(func(c *Config) *string { return &c.OutboundAllowHosts })},
	{Name: "image-decode-budget-mb", Env: "STORYKEEP_IMAGE_DECODE_BUDGET_MB", Default: "320", Help: "memory, in MiB, that all photo decodes of this replica may use at once (uploads and renditions); a photo needing more is refused, others wait their turn", bind: integer(func(c *Config) *int { return &c.ImageDecodeBudgetMB })},
	{Name: "max-concurrent-uploads", Env: "STORYKEEP_MAX_CONCURRENT_UPLOADS", Default: "0", Help: "uploads handled at once by this replica, apart from page requests; more wait their turn (up to 30 s, then 503). 0: 4 per CPU core", bind: countOrAuto(func(c *Config) *int { return &c.MaxConcurrentUploads })},
	{Name: "upload-max-open-per-user", Env: "STORYKEEP_UPLOAD_MAX_OPEN_PER_USER", Default: "5", Help: "unfinished resumable uploads one user may have at once", bind: integer(func(c *Config) *int { return &c.UploadMaxOpenPerUser })},
	{Name: "upload-max-staged-mb-per-user", Env: "STORYKEEP_UPLOAD_MAX_STAGED_MB_PER_USER", Default: "8192", Help: "declared size, in MiB, of one user's unfinished resumable uploads together", bind: integer(func(c *Config) *int { return &c.UploadMaxStagedMBPerUser })},
	{Name: "upload-max-staged-mb-total", Env: "STORYKEEP_UPLOAD_MAX_STAGED_MB_TOTAL", Default: "51200", Help: "declared size, in MiB, of all unfinished resumable uploads together", bind: integer(func(c *Config) *int { return &c.UploadMaxStagedMBTotal })},
	{Name: "upload-stale-after", Env: "STORYKEEP_UPLOAD_STALE_AFTER", Default: "6h", Help: "an unfinished upload untouched this long is removed by the hourly sweep, with its staged chunks", bind: duration(func(c *Config) *time.Duration { return &c.UploadStaleAfter })},
	{Name: "shutdown-grace", Env: "STORYKEEP_SHUTDOWN_GRACE", Default: "15s", Help: "time given to requests in flight on SIGTERM", bind: duration(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
	{Name: "mail-mode", Env: "STORYKEEP_MAIL_MODE", Default: "log", Help: "log (development: emails, including their links, are written to the log) or smtp", bind: oneOf(func(c *Config) *string { return &c.MailMode }, "log", "smtp")},
	{Name: "smtp-host", Env: "STORYKEEP_SMTP_HOST", Default: "", Help: "SMTP server host name (required when MAIL_MODE is smtp)", bind: str(func(c *Config) *string { return &c.SMTPHost })},
	{Name: "smtp-port", Env: "STORYKEEP_SMTP_PORT", Default: "587", Help: "SMTP server port (587 for starttls, 465 for tls)", bind: integer(func(c *Config) *int { return &c.SMTPPort })},
	{Name: "smtp-username", Env: "STORYKEEP_SMTP_USERNAME", Default: "", Help: "SMTP user name; empty sends without authentication", bind: str(func(c *Config) *string { return &c.SMTPUsername })},
	{Name: "smtp-password", Env: "STORYKEEP_SMTP_PASSWORD", Default: "", Secret: true, Help: "SMTP password", bind: str(func(c *Config) *string { return &c.SMTPPassword })},
	{Name: "smtp-from", Env: "STORYKEEP_SMTP_FROM", Default: "", Help: "sender address of emails, e.g. stories@hospital.org or Stories <stories@hospital.org> (required when MAIL_MODE is smtp)", bind: str(func(c *Config) *string { return &c.SMTPFrom })},
	{Name: "smtp-tls", Env: "STORYKEEP_SMTP_TLS", Default: "starttls", Help: "SMTP encryption: starttls (required, port 587), tls (implicit, port 465) or none (local relay only)", bind: oneOf(func(c *Config) *string { return &c.SMTPTLS }, "starttls", "tls", "none")},
	{Name: "consent-link-days", Env: "STORYKEEP_CONSENT_LINK_DAYS", Default: "14", Help: "days a consent link works (the most staff may choose)", bind: integer(func(c *Config) *int { return &c.ConsentLinkDays })},
	{Name: "consent-max-years", Env: "STORYKEEP_CONSENT_MAX_YEARS", Default: "2", Help: "latest expiration, in years after signing, a patient may choose for a consent", bind: integer(func(c *Config) *int { return &c.ConsentMaxYears })},
	{Name: "consent-age-of-majority", Env: "STORYKEEP_CONSENT_AGE_OF_MAJORITY", Default: "18", Help: "age below which a patient needs a representative to sign, unless staff record why not; their consent lapses at this age", bind: integer(func(c *Config) *int { return &c.ConsentAgeOfMajority })},
	{Name: "consent-assent-age", Env: "STORYKEEP_CONSENT_ASSENT_AGE", Default: "12", Help: "age from which a minor may add their own assent beside their representative's signature", bind: integer(func(c *Config) *int { return &c.ConsentAssentAge })},
	{Name: "consent-keep-at-majority", Env: "STORYKEEP_CONSENT_KEEP_AT_MAJORITY", Default: "false", Help: "keep a consent given for a minor after they come of age (by default it lapses, the story is withdrawn and they are asked to renew)", bind: boolean(func(c *Config) *bool { return &c.ConsentKeepAtMajority })},
	{Name: "organisation-name", Env: "STORYKEEP_ORGANISATION_NAME", Default: "Our hospital", Help: "the organisation named on consent forms, emails and certificates", bind: str(func(c *Config) *string { return &c.OrganisationName })},
	{Name: "consent-reminder-days", Env: "STORYKEEP_CONSENT_REMINDER_DAYS", Default: "3,7", Help: "days after sending on which an unopened consent request is emailed again, comma-separated", bind: days(func(c *Config) *[]int { return &c.ConsentReminderDays })},
	{Name: "consent-notice-days", Env: "STORYKEEP_CONSENT_NOTICE_DAYS", Default: "30,7", Help: "days before a consent ends on which the patient is told by email (or staff are asked to post a notice), comma-separated", bind: days(func(c *Config) *[]int { return &c.ConsentNoticeDays })},
	{Name: "retention-years", Env: "STORYKEEP_RETENTION_YEARS", Default: "6", Help: "years consent evidence (records, requests, certificates, signatures and the media they refer to) is kept after each consent ends; deleting it sooner is refused", bind: integer(func(c *Config) *int { return &c.RetentionYears })},
	{Name: "audit-link-interval", Env: "STORYKEEP_AUDIT_LINK_INTERVAL", Default: "2s", Help: "how often new audit entries are linked into the hash chain (by one replica at a time)", bind: duration(func(c *Config) *time.Duration { return &c.AuditLinkInterval })},
	{Name: "audit-anchor-interval", Env: "STORYKEEP_AUDIT_ANCHOR_INTERVAL", Default: "5m", Help: "how often the audit chain's head is written outside the database (an object in the S3 bucket, write-once under Object Lock, or a read-only file in DATA_DIR/anchors; timestamped when TSA_URL is set); the last entries before an anchor can be removed unnoticed for at most this long", bind: duration(func(c *Config) *time.Duration { return &c.AuditAnchorInterval })},
	{Name: "audit-syslog", Env: "STORYKEEP_AUDIT_SYSLOG", Default: "", Help: "syslog or SIEM endpoint (tcp://host:port or udp://host:port) that also receives each audit anchor as a signed RFC 5424 line; empty sends none", bind: str(func(c *Config) *string { return &c.AuditSyslog })},
	{Name: "site-title", Env: "STORYKEEP_SITE_TITLE", Default: "Patient stories", Help: "title of the public website of published stories, its feeds and sitemap", bind: str(func(c *Config) *string { return &c.SiteTitle })},
	{Name: "oidc-issuer", Env: "STORYKEEP_OIDC_ISSUER", Default: "", Help: "OpenID Connect issuer URL of the staff identity provider (Entra ID, Okta, Keycloak…); empty turns single sign-on off", bind: str(func(c *Config) *string { return &c.OIDCIssuer })},
	{Name: "oidc-client-id", Env: "STORYKEEP_OIDC_CLIENT_ID", Default: "", Help: "client id Storykeep is registered under at the identity provider", bind: str(func(c *Config) *string { return &c.OIDCClientID })},
	{Name: "oidc-client-secret", Env: "STORYKEEP_OIDC_CLIENT_SECRET", Default: "", Secret: true, Help: "client secret from the identity provider", bind: str(func(c *Config) *string { return &c.OIDCClientSecret })},
	{Name: "oidc-scopes", Env: "STORYKEEP_OIDC_SCOPES", Default: "openid,email,profile", Help: "scopes asked for, comma-separated (openid is always included)", bind: str(func(c *Config) *string { return &c.OIDCScopes })},
	{Name: "oidc-groups-claim", Env: "STORYKEEP_OIDC_GROUPS_CLAIM", Default: "groups", Help: "claim of the ID token or userinfo that lists the user's groups", bind: str(func(c *Config) *string { return &c.OIDCGroupsClaim })},
	{Name: "oidc-provider-name", Env: "STORYKEEP_OIDC_PROVIDER_NAME", Default: "single sign-on", Help: "name on the sign-in button: Sign in with <name>", bind: str(func(c *Config) *string { return &c.OIDCProviderName })},
	{Name: "oidc-role-map", Env: "STORYKEEP_OIDC_ROLE_MAP", Default: "", Help: "provider groups that may use Storykeep and their roles, as group=role pairs separated by commas (e.g. sk-admins=admin,sk-writers=storyteller); applied at every sign-in", bind: str(func(c *Config) *string { return &c.OIDCRoleMap })},
	{Name: "oidc-create-users", Env: "STORYKEEP_OIDC_CREATE_USERS", Default: "true", Help: "create an account at first single sign-on for someone in a mapped group (false: an admin must invite them first)", bind: boolean(func(c *Config) *bool { return &c.OIDCCreateUsers })},
	{Name: "oidc-help-contact", Env: "STORYKEEP_OIDC_HELP_CONTACT", Default: "your IT service desk", Help: "whom staff should ask when the provider does not give them access, shown in the refusal message", bind: str(func(c *Config) *string { return &c.OIDCHelpContact })},
	{Name: "local-passwords", Env: "STORYKEEP_LOCAL_PASSWORDS", Default: "true", Help: "allow sign-in with Storykeep passwords; false leaves them only to the break-glass admin (needs OIDC_ISSUER and BREAK_GLASS_EMAIL)", bind: boolean(func(c *Config) *bool { return &c.LocalPasswords })},
	{Name: "break-glass-email", Env: "STORYKEEP_BREAK_GLASS_EMAIL", Default: "", Help: "the one admin account that may still sign in with a password when LOCAL_PASSWORDS is false (for when the identity provider is down)", bind: str(func(c *Config) *string { return &c.BreakGlassEmail })},
	{Name: "invite-link-hours", Env: "STORYKEEP_INVITE_LINK_HOURS", Default: "72", Help: "hours an emailed invitation link works", bind: integer(func(c *Config) *int { return &c.InviteLinkHours })},
	{Name: "reset-link-minutes", Env: "STORYKEEP_RESET_LINK_MINUTES", Default: "60", Help: "minutes an emailed password-reset link works", bind: integer(func(c *Config) *int { return &c.ResetLinkMinutes })},
}

// days reads a comma-separated list of whole days (each at least 1).
func days(f func(c *Config) *[]int) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []int
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 {
				return fmt.Errorf("must be whole days of at least 1 separated by commas, such as 3,7, got %q", v)
			}
			out = append(out, n)
		}
		*f(c) = out
		return nil
	}
}

// Known reports whether name is an environment variable Storykeep reads
// (including the *_FILE form of secrets).
func Known(env string) bool {
	for _, s := range Settings {
		if s.Env == env || (s.Secret && s.Env+"_FILE" == env) {
			return true
		}
	}
	return false
}

// Load builds the configuration from defaults, then the environment (getenv),
// then flags parsed from args. It validates the result and returns an error
// naming the bad setting.
func Load(args []string, getenv func(string) string) (*Config, error) {
	values := map[string]string{}
	for _, s := range Settings {
		values[s.Name] = s.Default
		if s.Secret {
			if path := getenv(s.Env + "_FILE"); path != "" {
				b, err := os.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("%s_FILE: cannot read %s: %v", s.Env, path, err)
				}
				values[s.Name] = strings.TrimSpace(string(b))
			}
		}
		if v, ok := lookup(getenv, s.Env); ok {
			values[s.Name] = v
		}
	}
	fs := flag.NewFlagSet("storykeep", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	flagged := map[string]*string{}
	for _, s := range Settings {
		flagged[s.Name] = fs.String(s.Name, values[s.Name], s.Help)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%v (run 'storykeep config --help' for the list of settings)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// Unset, the public URL follows the listen address, so the printed
	// sign-in URL (and links in emails) work when only the port is changed.
	_, publicURLSet := lookup(getenv, "STORYKEEP_PUBLIC_URL")
	fs.Visit(func(f *flag.Flag) { publicURLSet = publicURLSet || f.Name == "public-url" })
	c := &Config{effective: map[string]string{}}
	for _, s := range Settings {
		v := *flagged[s.Name]
		c.effective[s.Name] = v
		if s.bind == nil {
			continue
		}
		if err := s.bind(c, v); err != nil {
			return nil, fmt.Errorf("%s (--%s): %v", s.Env, s.Name, err)
		}
	}
	if !publicURLSet {
		c.PublicURL = followListen(c.ListenAddr)
		c.effective["public-url"] = c.PublicURL
	}
	if err := c.finish(*flagged["cookie-secure"]); err != nil {
		return nil, err
	}
	return c, nil
}

// followListen is the URL of a server listening on addr, as a browser on the
// same machine reaches it: a wildcard host becomes 127.0.0.1. An address that
// is not host:port is returned as is for finish to report.
func followListen(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func (c *Config) finish(cookieSecure string) error {
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		return fmt.Errorf("STORYKEEP_LISTEN: %q is not host:port (e.g. 127.0.0.1:8080)", c.ListenAddr)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("STORYKEEP_PUBLIC_URL: %q must be an absolute http(s) URL such as https://stories.example.org", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	switch cookieSecure {
	case "auto":
		c.CookieSecure = u.Scheme == "https"
	case "true", "false":
		c.CookieSecure = cookieSecure == "true"
	default:
		return fmt.Errorf("STORYKEEP_COOKIE_SECURE: must be true, false or auto, got %q", cookieSecure)
	}
	if c.DataDir == "" {
		return fmt.Errorf("STORYKEEP_DATA_DIR: must not be empty")
	}
	if c.MediaDir == "" {
		c.MediaDir = c.DataDir + "/media"
	}
	switch c.MediaBackend {
	case "local":
	case "s3":
		if c.S3Endpoint == "" || c.S3Bucket == "" || c.S3AccessKey == "" || c.S3SecretKey == "" {
			return fmt.Errorf("STORYKEEP_MEDIA_BACKEND=s3 needs STORYKEEP_S3_ENDPOINT, STORYKEEP_S3_BUCKET, STORYKEEP_S3_ACCESS_KEY and STORYKEEP_S3_SECRET_KEY")
		}
	default:
		return fmt.Errorf("STORYKEEP_MEDIA_BACKEND: must be local or s3, got %q", c.MediaBackend)
	}
	if c.S3LockMode != "compliance" && c.S3LockMode != "governance" {
		return fmt.Errorf("STORYKEEP_S3_LOCK_MODE: must be compliance or governance, got %q", c.S3LockMode)
	}
	if _, err := c.Database(); err != nil {
		return err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("STORYKEEP_LOG_LEVEL: must be debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("STORYKEEP_LOG_FORMAT: must be text or json, got %q", c.LogFormat)
	}
	if err := c.finishSSO(); err != nil {
		return err
	}
	if err := c.finishCDN(); err != nil {
		return err
	}
	if c.AuditAnchorInterval < 10*time.Second {
		return fmt.Errorf("STORYKEEP_AUDIT_ANCHOR_INTERVAL: must be at least 10s, got %s", c.AuditAnchorInterval)
	}
	if c.AuditSyslog != "" && !strings.HasPrefix(c.AuditSyslog, "tcp://") && !strings.HasPrefix(c.AuditSyslog, "udp://") {
		return fmt.Errorf("STORYKEEP_AUDIT_SYSLOG: must be tcp://host:port or udp://host:port, got %q", c.AuditSyslog)
	}
	if c.SessionIdleTimeout > c.SessionLifetime {
		return fmt.Errorf("STORYKEEP_SESSION_IDLE_TIMEOUT (%s) must not be longer than STORYKEEP_SESSION_LIFETIME (%s)", c.SessionIdleTimeout, c.SessionLifetime)
	}
	return nil
}

// DB names the database driver and its data source.
type DB struct {
	Driver string // "sqlite" or "postgres"
	DSN    string
}

// Database parses DatabaseURL into a driver and DSN.
func (c *Config) Database() (DB, error) {
	switch {
	case c.DatabaseURL == "":
		return DB{Driver: "sqlite", DSN: c.DataDir + "/storykeep.db"}, nil
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		return DB{Driver: "postgres", DSN: c.DatabaseURL}, nil
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		return DB{Driver: "sqlite", DSN: strings.TrimPrefix(c.DatabaseURL, "sqlite:")}, nil
	default:
		return DB{}, fmt.Errorf("STORYKEEP_DATABASE_URL: must start with postgres://, postgresql:// or sqlite: (or be empty for SQLite in the data directory)")
	}
}

// Redacted returns NAME=value lines for every effective setting with secrets
// hidden, for `storykeep config`.
func (c *Config) Redacted() []string {
	var out []string
	for _, s := range Settings {
		v := c.effective[s.Name]
		switch {
		case s.Secret && v != "":
			v = "(set, redacted)"
		case s.Name == "database-url" && v == "":
			v = "(empty: SQLite at " + c.DataDir + "/storykeep.db)"
		}
		out = append(out, s.Env+"="+v)
	}
	return out
}
