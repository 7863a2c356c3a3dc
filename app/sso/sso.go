// Package sso signs staff in with the hospital's OpenID Connect provider:
// the authorization code flow with PKCE, state and nonce (go-oidc and
// x/oauth2 do discovery, token exchange and signature checks, and follow the
// provider's key rotation), the mapping of provider groups to Storykeep
// roles, and RP-initiated logout. The web layer keeps the per-sign-in
// secrets (Attempt) in the server-side session; the users service applies
// the result.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/models"
)

// ErrUnavailable means the provider could not be reached (discovery, keys or
// token endpoint): nobody is at fault and local break-glass sign-in remains.
var ErrUnavailable = errors.New("sso: the identity provider cannot be reached")

// Refusal is a sign-in the provider's answer does not allow. Reason is for
// the audit log (never shown to the user, never holds tokens).
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return "sso: refused: " + r.Reason }

func refuse(format string, a ...any) error { return &Refusal{Reason: fmt.Sprintf(format, a...)} }

// Identity is who the provider says signed in.
type Identity struct {
	Issuer, Subject string
	Email           string
	EmailVerified   bool
	Name            string
	Groups          []string
	// IDToken is the raw ID token, kept as the id_token_hint for logout.
	IDToken string
}

// Attempt is one sign-in's secrets, kept server-side until the callback.
type Attempt struct {
	State, Nonce, Verifier string
	Started                time.Time
}

// AttemptLifetime is how long a started sign-in may take at the provider.
const AttemptLifetime = 15 * time.Minute

// Client talks to one provider. Discovery happens at first use and is
// retried after a failure, so Storykeep starts while the provider is down.
type Client struct {
	issuer, clientID, secret string
	scopes                   []string
	groupsClaim              string
	roles                    map[string]string
	redirectURL              string
	// DisplayName is the provider's name on the sign-in button.
	DisplayName string
	// HelpContact is whom to ask when the provider gives no access.
	HelpContact string
	// HTTP is the client for the provider (timeouts; tests may replace it).
	HTTP *http.Client

	mu         sync.Mutex
	provider   *oidc.Provider
	endSession string
	now        func() time.Time
}

// New returns a client for the configuration, or nil when SSO is off.
func New(cfg *config.Config) (*Client, error) {
	if !cfg.SSOEnabled() {
		return nil, nil
	}
	roles, err := cfg.RoleMap()
	if err != nil {
		return nil, err
	}
	for g, r := range roles {
		if !models.ValidRole(r) {
			return nil, fmt.Errorf("STORYKEEP_OIDC_ROLE_MAP: group %q maps to %q, which is not a role (roles: %v)", g, r, models.Roles)
		}
	}
	return &Client{issuer: cfg.OIDCIssuer, clientID: cfg.OIDCClientID, secret: cfg.OIDCClientSecret, scopes: cfg.Scopes(),
		groupsClaim: cfg.OIDCGroupsClaim, roles: roles, redirectURL: cfg.PublicURL + CallbackPath,
		DisplayName: cfg.OIDCProviderName, HelpContact: cfg.OIDCHelpContact,
		HTTP: &http.Client{Timeout: 10 * time.Second}, now: time.Now}, nil
}

// CallbackPath is where the provider sends the browser back.
const CallbackPath = "/login/sso/callback"

// SetClock replaces the clock ID tokens are checked against (tests).
func (c *Client) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

func (c *Client) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

func (c *Client) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, c.HTTP) }

// discover returns the provider, fetching its discovery document once.
func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	// The key set keeps this context's HTTP client for later key fetches, so
	// it must not be the request's (which ends with the request).
	p, err := oidc.NewProvider(c.ctx(context.Background()), c.issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	c.provider, c.endSession = p, extra.EndSession
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.clientID, ClientSecret: c.secret, Endpoint: p.Endpoint(), RedirectURL: c.redirectURL, Scopes: c.scopes}
}

func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Begin starts a sign-in: fresh state, nonce and PKCE verifier, and the
// provider URL to send the browser to.
func (c *Client) Begin(ctx context.Context) (Attempt, string, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return Attempt{}, "", err
	}
	a := Attempt{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Started: c.clock()}
	return a, c.oauth(p).AuthCodeURL(a.State, oidc.Nonce(a.Nonce), oauth2.S256ChallengeOption(a.Verifier)), nil
}

// Finish completes a sign-in from the callback's query: it checks state
// against the attempt, exchanges the code (with the PKCE verifier), verifies
// the ID token (issuer, audience, signature, expiry) and its nonce, and reads
// the user's claims, asking the userinfo endpoint for what the ID token lacks.
func (c *Client) Finish(ctx context.Context, a Attempt, q url.Values) (*Identity, error) {
	if a.State == "" {
		return nil, refuse("no sign-in was started in this browser session (or it was already used)")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(a.State)) != 1 {
		return nil, refuse("state does not match the sign-in started in this session")
	}
	if c.clock().Sub(a.Started) > AttemptLifetime {
		return nil, refuse("the sign-in took longer than %s", AttemptLifetime)
	}
	if e := q.Get("error"); e != "" {
		return nil, refuse("the provider answered %s", sanitize(e))
	}
	code := q.Get("code")
	if code == "" {
		return nil, refuse("the provider sent no code")
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := c.oauth(p).Exchange(c.ctx(ctx), code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, refuse("the provider refused the code (%s)", sanitize(re.ErrorCode))
		}
		return nil, fmt.Errorf("%w: token endpoint: %v", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, refuse("the provider returned no ID token")
	}
	idt, err := p.VerifierContext(c.ctx(ctx), &oidc.Config{ClientID: c.clientID, Now: c.clock}).Verify(c.ctx(ctx), raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, refuse("the ID token expired at %s", exp.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, refuse("the ID token did not verify: %s", sanitize(err.Error()))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		return nil, refuse("the ID token's nonce does not match this sign-in")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, refuse("the access token does not match the ID token")
		}
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, refuse("unreadable ID token claims")
	}
	if _, ok := claims["email"]; !ok || claims[c.groupsClaim] == nil {
		ui, err := p.UserInfo(c.ctx(ctx), oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fmt.Errorf("%w: userinfo: %v", ErrUnavailable, err)
		}
		if ui.Subject != idt.Subject {
			return nil, refuse("userinfo is about another subject")
		}
		more := map[string]any{}
		if err := ui.Claims(&more); err != nil {
			return nil, refuse("unreadable userinfo")
		}
		for k, v := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	id := &Identity{Issuer: idt.Issuer, Subject: idt.Subject, IDToken: raw, Groups: stringsOf(claims[c.groupsClaim])}
	id.Email, _ = claims["email"].(string)
	id.Name, _ = claims["name"].(string)
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string:
		id.EmailVerified = v == "true"
	default:
		id.EmailVerified = true // providers such as Entra ID do not send it; their addresses are managed
	}
	if id.Email == "" {
		return nil, refuse("the provider sent no email address (ask for the email scope)")
	}
	return id, nil
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// sanitize keeps provider text short and printable for the audit log.
func sanitize(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			out = append(out, r)
		}
		if len(out) >= 200 {
			break
		}
	}
	return string(out)
}

// rank orders roles from most to least trust: someone in several mapped
// groups gets the most trusted role among them.
var rank = []string{models.RoleAdmin, models.RolePublisher, models.RoleReviewer, models.RoleStoryteller}

// Role maps the user's groups to a Storykeep role; ok is false when none of
// their groups is mapped.
func (c *Client) Role(groups []string) (role string, ok bool) {
	have := map[string]bool{}
	for _, g := range groups {
		if r, ok := c.roles[g]; ok {
			have[r] = true
		}
	}
	for _, r := range rank {
		if have[r] {
			return r, true
		}
	}
	return "", false
}

// LogoutURL is the provider's end-session URL for RP-initiated logout, or ""
// when its discovery names no end_session_endpoint (or it was never reached).
func (c *Client) LogoutURL(idToken, after string) string {
	c.mu.Lock()
	end := c.endSession
	c.mu.Unlock()
	if end == "" || idToken == "" {
		return ""
	}
	u, err := url.Parse(end)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("id_token_hint", idToken)
	q.Set("client_id", c.clientID)
	q.Set("post_logout_redirect_uri", after)
	u.RawQuery = q.Encode()
	return u.String()
}
