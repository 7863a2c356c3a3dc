package web_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/sso"
	"github.com/storykeep/storykeep/app/sso/ssotest"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// newSSOEnv starts a real OpenID provider (ssotest: zitadel's OP) and a
// Storykeep that signs staff in with it. Its people: ana (writers), lee
// (legal and admins), bob (a group Storykeep does not map).
func newSSOEnv(t *testing.T, mods ...func(*config.Config)) (*apptest.Env, *ssotest.OP) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	op := ssotest.Start(t, appURL+sso.CallbackPath)
	op.AddUser("sub-ana", "ana", "ana@hospital.test", "Ana", "Writer", "sk-writers")
	op.AddUser("sub-lee", "lee", "lee@hospital.test", "Lee", "Counsel", "sk-legal", "sk-admins")
	op.AddUser("sub-bob", "bob", "bob@hospital.test", "Bob", "Cafeteria", "cafeteria")
	cfg := apptest.Config(t, append([]func(*config.Config){func(c *config.Config) {
		c.PublicURL = appURL
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = op.URL, ssotest.ClientID, ssotest.ClientSecret
		c.OIDCRoleMap = "sk-admins=admin,sk-writers=storyteller,sk-legal=reviewer"
		c.OIDCProviderName, c.OIDCHelpContact = "Hospital ID", "the IT service desk (ext. 4357)"
		c.OIDCCreateUsers = true
	}}, mods...)...)
	logs := &apptest.SafeBuffer{}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Web.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &apptest.Env{T: t, App: a, Server: srv, Logs: logs}, op
}

// ssoStart presses "Sign in with …" and returns the provider URL.
func ssoStart(t *testing.T, c *apptest.Client) string {
	t.Helper()
	res := c.Get("/login/sso").Expect(http.StatusSeeOther)
	return res.Header.Get("Location")
}

// ssoSignIn goes through the whole code flow as username and returns
// Storykeep's answer to the callback.
func ssoSignIn(t *testing.T, c *apptest.Client, username string) *apptest.Resp {
	t.Helper()
	back := ssotest.Login(t, ssoStart(t, c), username)
	return c.Get(back.RequestURI())
}

func auditActions(t *testing.T, env *apptest.Env, action string) []models.AuditEntry {
	t.Helper()
	var out []models.AuditEntry
	if err := env.App.DB.Where("action = ?", action).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func expectSignedOut(t *testing.T, c *apptest.Client) {
	t.Helper()
	if res := c.Get("/"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
		t.Fatalf("expected to be signed out, got %d %s", res.Status, res.Location())
	}
}

func TestSSOCodeFlowThroughTheRouter(t *testing.T) {
	env, op := newSSOEnv(t)
	c := env.Client()
	page := c.Get("/login").Expect(http.StatusOK)
	if btn := page.Doc.Find(`a#sso`).Text(); btn != "Sign in with Hospital ID" || !strings.HasPrefix(page.Doc.Find(`a#sso`).AttrOr("href", ""), "/login/sso") {
		t.Fatalf("sign-in button %q", btn)
	}
	authURL := ssoStart(t, c)
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, op.URL) || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 ||
		len(q.Get("state")) < 40 || len(q.Get("nonce")) < 40 || q.Get("response_type") != "code" || q.Get("client_id") != ssotest.ClientID {
		t.Fatalf("authorization request lacks PKCE, state or nonce: %s", authURL)
	}
	back := ssotest.Login(t, authURL, "ana")
	res := c.Get(back.RequestURI()).Expect(http.StatusSeeOther)
	if res.Location() != "/" {
		t.Fatalf("after sign-in: %s", res.Location())
	}
	c.Get("/").Expect(http.StatusOK)
	got, err := env.App.Users.GetByEmail(context.Background(), "ana@hospital.test")
	if err != nil || got.Role != models.RoleStoryteller || got.Name != "Ana Writer" || got.PasswordHash != "" {
		t.Fatalf("just-in-time account: %+v %v", got, err)
	}
	if a := auditActions(t, env, "session.sso_login"); len(a) != 1 || a[0].ObjectID != got.ID {
		t.Fatalf("sso sign-in not audited: %+v", a)
	}
	if a := auditActions(t, env, "user.create"); len(a) != 1 || !strings.Contains(a[0].Details, `"via":"sso"`) {
		t.Fatalf("creation not audited: %+v", a)
	}
	// Second sign-in: same account, found by subject.
	ssoSignIn(t, env.Client(), "ana").Expect(http.StatusSeeOther)
	var n int64
	env.App.DB.Model(&models.User{}).Where("email = ?", "ana@hospital.test").Count(&n)
	if n != 1 {
		t.Fatalf("%d accounts for one person", n)
	}
	// Signing out ends the session here and at the provider (RP-initiated logout).
	res = c.Post("/logout", nil).Expect(http.StatusSeeOther)
	lo, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(lo.String(), op.URL+"/") || lo.Query().Get("id_token_hint") == "" || lo.Query().Get("post_logout_redirect_uri") != env.App.Config.PublicURL+"/login?signed_out=1" {
		t.Fatalf("logout did not go to the provider's end_session_endpoint: %s", lo)
	}
	expectSignedOut(t, c)
}

func TestSSOGroupChangeAppliesAtNextSignIn(t *testing.T) {
	env, op := newSSOEnv(t)
	ssoSignIn(t, env.Client(), "ana").Expect(http.StatusSeeOther)
	op.SetGroups("sub-ana", "sk-legal")
	c := env.Client()
	ssoSignIn(t, c, "ana").Expect(http.StatusSeeOther)
	u, _ := env.App.Users.GetByEmail(context.Background(), "ana@hospital.test")
	if u.Role != models.RoleReviewer {
		t.Fatalf("role after group change: %s", u.Role)
	}
	a := auditActions(t, env, "user.set_role")
	if len(a) != 1 || !strings.Contains(a[0].Details, `"from":"storyteller"`) || !strings.Contains(a[0].Details, `"to":"reviewer"`) || !strings.Contains(a[0].Details, "sso") {
		t.Fatalf("role change not audited: %+v", a)
	}
	// In several mapped groups: the most trusted role wins.
	ssoSignIn(t, env.Client(), "lee").Expect(http.StatusSeeOther)
	if u, _ := env.App.Users.GetByEmail(context.Background(), "lee@hospital.test"); u.Role != models.RoleAdmin {
		t.Fatalf("lee: %s", u.Role)
	}
	// Removed from every mapped group: refused at the next sign-in.
	op.SetGroups("sub-ana")
	c2 := env.Client()
	ssoSignIn(t, c2, "ana").Expect(http.StatusForbidden).Contains("Ask the IT service desk (ext. 4357)")
	expectSignedOut(t, c2)
}

func TestSSOUserWithNoMappedGroupIsRefused(t *testing.T) {
	env, _ := newSSOEnv(t)
	c := env.Client()
	res := ssoSignIn(t, c, "bob").Expect(http.StatusForbidden)
	res.Contains("Your account at Hospital ID is not in any group that may use Storykeep. Ask the IT service desk (ext. 4357)")
	expectSignedOut(t, c)
	if _, err := env.App.Users.GetByEmail(context.Background(), "bob@hospital.test"); err == nil {
		t.Fatal("an account was created for someone without a mapped group")
	}
	if a := auditActions(t, env, "session.sso_refused"); len(a) != 1 || !strings.Contains(a[0].Details, "no mapped group") {
		t.Fatalf("refusal not audited: %+v", a)
	}
}

func TestSSOWithoutJustInTimeAccountsNeedsAnInvitation(t *testing.T) {
	env, _ := newSSOEnv(t, func(c *config.Config) { c.OIDCCreateUsers = false })
	ssoSignIn(t, env.Client(), "ana").Expect(http.StatusForbidden).Contains("Ask a Storykeep administrator to invite you")
	// Invited (an account with her email): her first sign-in links it.
	_, err := env.App.Users.Create(audit.WithActor(context.Background(), audit.System), users.NewUser{Email: "ana@hospital.test", Name: "Ana", Role: models.RoleReviewer, Password: "a long enough password", MustChangePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	if res := ssoSignIn(t, c, "ana").Expect(http.StatusSeeOther); res.Location() != "/" {
		t.Fatalf("linked sign-in went to %s", res.Location())
	}
	if u, _ := env.App.Users.GetByEmail(context.Background(), "ana@hospital.test"); u.Role != models.RoleStoryteller || u.MustChangePassword {
		t.Fatalf("linked account: %+v", u)
	}
	if len(auditActions(t, env, "user.sso_link")) != 1 {
		t.Fatal("link not audited")
	}
}

func TestSSOTamperedStateIsRefused(t *testing.T) {
	env, _ := newSSOEnv(t)
	c := env.Client()
	back := ssotest.Login(t, ssoStart(t, c), "ana")
	q := back.Query()
	q.Set("state", q.Get("state")[:20]+"tampered")
	back.RawQuery = q.Encode()
	c.Get(back.RequestURI()).Expect(http.StatusUnauthorized).Contains("Sign-in with Hospital ID did not complete")
	expectSignedOut(t, c)
	if a := auditActions(t, env, "session.sso_refused"); len(a) != 1 || !strings.Contains(a[0].Details, "state does not match") {
		t.Fatalf("%+v", a)
	}
}

func TestSSOReplayedCodeIsRefused(t *testing.T) {
	env, _ := newSSOEnv(t)
	c := env.Client()
	back := ssotest.Login(t, ssoStart(t, c), "ana")
	c.Get(back.RequestURI()).Expect(http.StatusSeeOther)
	c.Post("/logout", nil)
	// The same callback again: its state was spent with the first use.
	c.Get(back.RequestURI()).Expect(http.StatusUnauthorized)
	expectSignedOut(t, c)
	// The code with a freshly started sign-in's state: the provider refuses
	// a code it already redeemed.
	other := env.Client()
	fresh, _ := url.Parse(ssoStart(t, other))
	q := back.Query()
	q.Set("state", fresh.Query().Get("state"))
	other.Get(sso.CallbackPath + "?" + q.Encode()).Expect(http.StatusUnauthorized)
	expectSignedOut(t, other)
	a := auditActions(t, env, "session.sso_refused")
	if len(a) != 2 || !strings.Contains(a[0].Details, "no sign-in was started") || !strings.Contains(a[1].Details, "refused the code") {
		t.Fatalf("%+v", a)
	}
}

func TestSSOWrongNonceIsRefused(t *testing.T) {
	env, _ := newSSOEnv(t)
	c := env.Client()
	authURL, _ := url.Parse(ssoStart(t, c))
	q := authURL.Query()
	q.Set("nonce", "an-attackers-nonce-from-another-sign-in-0123456789")
	authURL.RawQuery = q.Encode()
	back := ssotest.Login(t, authURL.String(), "ana")
	c.Get(back.RequestURI()).Expect(http.StatusUnauthorized)
	expectSignedOut(t, c)
	if a := auditActions(t, env, "session.sso_refused"); len(a) != 1 || !strings.Contains(a[0].Details, "nonce does not match") {
		t.Fatalf("%+v", a)
	}
}

func TestSSOTokenFromAnotherIssuerIsRefused(t *testing.T) {
	env, op := newSSOEnv(t)
	other := ssotest.Start(t, env.App.Config.PublicURL+sso.CallbackPath)
	other.AddUser("sub-ana", "ana", "ana@hospital.test", "Ana", "Writer", "sk-writers")
	// Storykeep's token request is answered by another provider, which
	// signs an ID token as itself for a code it issued.
	op.DivertToken(other.Handler())
	c := env.Client()
	authURL, _ := url.Parse(ssoStart(t, c))
	o, _ := url.Parse(other.URL)
	authURL.Host = o.Host
	back := ssotest.Login(t, authURL.String(), "ana")
	c.Get(back.RequestURI()).Expect(http.StatusUnauthorized)
	expectSignedOut(t, c)
	if a := auditActions(t, env, "session.sso_refused"); len(a) != 1 || !strings.Contains(a[0].Details, "did not verify") || !strings.Contains(a[0].Details, "issued by a different provider") {
		t.Fatalf("%+v", a)
	}
}

func TestSSOExpiredIDTokenIsRefused(t *testing.T) {
	env, _ := newSSOEnv(t)
	// The provider's ID tokens live an hour; Storykeep's clock is two hours on.
	env.App.SSO.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	c := env.Client()
	ssoSignIn(t, c, "ana").Expect(http.StatusUnauthorized)
	expectSignedOut(t, c)
	if a := auditActions(t, env, "session.sso_refused"); len(a) != 1 || !strings.Contains(a[0].Details, "expired") {
		t.Fatalf("%+v", a)
	}
}

func TestSSOProviderDownBreakGlassStillSignsIn(t *testing.T) {
	env, op := newSSOEnv(t, func(c *config.Config) {
		c.LocalPasswords = false
		c.BreakGlassEmail = "breakglass@hospital.test"
	})
	pw := "break glass in case of fire"
	if _, err := env.App.Users.Create(audit.WithActor(context.Background(), audit.System), users.NewUser{Email: "breakglass@hospital.test", Name: "Emergency admin", Role: models.RoleAdmin, Password: pw}); err != nil {
		t.Fatal(err)
	}
	staff, staffPW := env.CreateUser(models.RoleStoryteller)
	page := env.Client().Get("/login").Expect(http.StatusOK)
	page.Contains("The password form below is only for the emergency admin account")
	// Local passwords are off: a staff password fails like a wrong one.
	env.Client().Login(staff.Email, staffPW).Expect(http.StatusUnauthorized).Contains("do not match an active account")

	// The provider goes down between the redirect and the callback.
	c := env.Client()
	back := ssotest.Login(t, ssoStart(t, c), "ana")
	op.Stop()
	res := c.Get(back.RequestURI()).Expect(http.StatusServiceUnavailable)
	res.Contains("Hospital ID cannot be reached right now").Contains("The emergency admin account can still sign in")
	if res.Doc.Find(`form[action="/login"] input[name=password]`).Length() != 1 {
		t.Fatal("the password form is missing from the provider-down page")
	}
	expectSignedOut(t, c)

	// Down from the start (a fresh Storykeep that never reached it).
	env2, op2 := newSSOEnv(t, func(c *config.Config) {
		c.LocalPasswords = false
		c.BreakGlassEmail = "breakglass@hospital.test"
	})
	op2.Stop()
	env2.Client().Get("/login/sso").Expect(http.StatusServiceUnavailable).Contains("Hospital ID cannot be reached right now")

	// The break-glass admin still signs in with a password.
	bg := env.Client()
	if res := bg.Login("breakglass@hospital.test", pw).Expect(http.StatusSeeOther); res.Location() != "/" {
		t.Fatalf("break-glass sign-in went to %s", res.Location())
	}
	bg.Get("/admin/users").Expect(http.StatusOK)
}

// TestSSOAdminIsNotAskedForLocalTwoStep: the provider enforces multi-factor
// sign-in, so REQUIRE_ADMIN_2FA applies to password sessions only.
func TestSSOAdminIsNotAskedForLocalTwoStep(t *testing.T) {
	env, _ := newSSOEnv(t, func(c *config.Config) { c.RequireAdmin2FA = true })
	c := env.Client()
	ssoSignIn(t, c, "lee").Expect(http.StatusSeeOther)
	c.Get("/admin/users").Expect(http.StatusOK)
	pw, _ := env.SignedIn(models.RoleAdmin)
	if loc := pw.Get("/admin/users").Location(); loc != "/account/2fa" {
		t.Fatalf("a password admin must still enrol: %q", loc)
	}
}

// TestSSOKeepsWhereThePersonWasGoing: the page asked for before signing in
// is where the provider's sign-in ends; an outside address is not.
func TestSSOKeepsWhereThePersonWasGoing(t *testing.T) {
	env, _ := newSSOEnv(t)
	for next, want := range map[string]string{"/stories": "/stories", "https://evil.example/": "/"} {
		c := env.Client()
		res := c.Get("/login/sso?next=" + url.QueryEscape(next)).Expect(http.StatusSeeOther)
		back := ssotest.Login(t, res.Header.Get("Location"), "ana")
		if got := c.Get(back.RequestURI()).Expect(http.StatusSeeOther).Location(); got != want {
			t.Fatalf("next %q: went to %q, want %q", next, got, want)
		}
	}
}
