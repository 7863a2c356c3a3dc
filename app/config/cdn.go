package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// CDN configures the CDN in front of the public website (issue 23, item 3):
// which purge API Storykeep calls when a story is withdrawn, and how long
// the CDN may keep public pages (docs/cdn.md).
type CDN struct {
	// Provider is none, cloudflare, fastly or generic.
	Provider string
	// ZoneID (Cloudflare) or ServiceID (Fastly) names what to purge.
	ZoneID    string
	ServiceID string
	// APIToken is Cloudflare's API token (Authorization: Bearer), Fastly's
	// API token (Fastly-Key) or the generic endpoint's bearer token.
	APIToken string
	// APIBase overrides the provider's API address (tests, API gateways).
	APIBase string
	// PurgeURL and PurgeMethod are the generic provider's endpoint.
	PurgeURL    string
	PurgeMethod string
	// SMaxAge is how long the CDN may serve a public page without asking
	// Storykeep again (s-maxage); 0 keeps "no-cache" (revalidate every time).
	SMaxAge time.Duration
}

// On reports whether a CDN purge is configured.
func (c CDN) On() bool { return c.Provider != "" && c.Provider != "none" }

// The CDN settings follow the others in the README table.
func init() {
	Settings = append(Settings,
		Setting{Name: "cdn-provider", Env: "STORYKEEP_CDN_PROVIDER", Default: "none", Help: "CDN in front of the public website whose cache is purged when a story is withdrawn: none, cloudflare, fastly or generic (docs/cdn.md)", bind: oneOf(func(c *Config) *string { return &c.CDN.Provider }, "none", "cloudflare", "fastly", "generic")},
		Setting{Name: "cdn-zone-id", Env: "STORYKEEP_CDN_ZONE_ID", Default: "", Help: "Cloudflare zone id of the public website (required with cdn-provider cloudflare)", bind: str(func(c *Config) *string { return &c.CDN.ZoneID })},
		Setting{Name: "cdn-service-id", Env: "STORYKEEP_CDN_SERVICE_ID", Default: "", Help: "Fastly service id of the public website (required with cdn-provider fastly)", bind: str(func(c *Config) *string { return &c.CDN.ServiceID })},
		Setting{Name: "cdn-api-token", Env: "STORYKEEP_CDN_API_TOKEN", Default: "", Secret: true, Help: "Cloudflare API token with Cache Purge permission, Fastly API token with purge_select scope, or the generic purge endpoint's bearer token (optional there)", bind: str(func(c *Config) *string { return &c.CDN.APIToken })},
		Setting{Name: "cdn-api-base", Env: "STORYKEEP_CDN_API_BASE", Default: "", Help: "address of the CDN's API; empty: https://api.cloudflare.com/client/v4 or https://api.fastly.com", bind: str(func(c *Config) *string { return &c.CDN.APIBase })},
		Setting{Name: "cdn-purge-url", Env: "STORYKEEP_CDN_PURGE_URL", Default: "", Help: "generic provider: URL that receives {\"urls\":[…]} to purge (required with cdn-provider generic)", bind: str(func(c *Config) *string { return &c.CDN.PurgeURL })},
		Setting{Name: "cdn-purge-method", Env: "STORYKEEP_CDN_PURGE_METHOD", Default: "POST", Help: "generic provider: HTTP method of the purge request (POST, PUT or PURGE)", bind: oneOf(func(c *Config) *string { return &c.CDN.PurgeMethod }, "POST", "PUT", "PURGE")},
		Setting{Name: "cdn-s-maxage", Env: "STORYKEEP_CDN_S_MAXAGE", Default: "60s", Help: "with a CDN configured, how long it may serve public pages, feeds and pictures without asking again (s-maxage); the longest a withdrawn story can stay on the CDN if every purge fails. 0s: always revalidate", bind: durationOrZero(func(c *Config) *time.Duration { return &c.CDN.SMaxAge })},
	)
}

// durationOrZero is duration that also takes 0 (off).
func durationOrZero(f func(c *Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("must be a duration such as 60s or 5m (0s for none), got %q", v)
		}
		*f(c) = d.Truncate(time.Second)
		return nil
	}
}

// finishCDN checks that the chosen provider has what it needs.
func (c *Config) finishCDN() error {
	d := &c.CDN
	need := func(v, env string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("STORYKEEP_CDN_PROVIDER=%s needs %s", d.Provider, env)
		}
		return nil
	}
	httpURL := func(v, env string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q must be an absolute http(s) URL", env, v)
		}
		return nil
	}
	if d.APIBase != "" {
		if err := httpURL(d.APIBase, "STORYKEEP_CDN_API_BASE"); err != nil {
			return err
		}
		d.APIBase = strings.TrimRight(d.APIBase, "/")
	}
	switch d.Provider {
	case "cloudflare":
		if err := need(d.ZoneID, "STORYKEEP_CDN_ZONE_ID"); err != nil {
			return err
		}
		return need(d.APIToken, "STORYKEEP_CDN_API_TOKEN")
	case "fastly":
		if err := need(d.ServiceID, "STORYKEEP_CDN_SERVICE_ID"); err != nil {
			return err
		}
		return need(d.APIToken, "STORYKEEP_CDN_API_TOKEN")
	case "generic":
		if err := need(d.PurgeURL, "STORYKEEP_CDN_PURGE_URL"); err != nil {
			return err
		}
		return httpURL(d.PurgeURL, "STORYKEEP_CDN_PURGE_URL")
	}
	return nil
}
