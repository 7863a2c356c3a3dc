package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/mail/smtptest"
	"github.com/storykeep/storykeep/app/sso/ssotest"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func withSMTP(srv *smtptest.Server) func(*config.Config) {
	return func(c *config.Config) {
		c.MailMode, c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.SMTPFrom = "smtp", srv.Host, srv.Port, "none", "stories@hospital.test"
	}
}

var staffLinkRE = regexp.MustCompile(`https?://[^/\s]+(/(?:invite|password/reset)/[A-Za-z0-9_-]+)`)

// waitMessages waits until srv has received n messages.
func waitMessages(t *testing.T, srv *smtptest.Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(srv.Messages()) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d emails arrived, want %d", len(srv.Messages()), n)
		}
	}
}

// mailedLink returns the path of the link in the last email, checking it went to.
func mailedLink(t *testing.T, srv *smtptest.Server, to, subject string) string {
	t.Helper()
	m := srv.Last(t)
	if !strings.Contains(m.To, to) || m.Subject != subject {
		t.Fatalf("email to %q %q, want %q %q", m.To, m.Subject, to, subject)
	}
	sm := staffLinkRE.FindStringSubmatch(m.Text)
	if sm == nil {
		t.Fatalf("no link in the email: %q", m.Text)
	}
	return sm[1]
}

func TestAdminInvitesByEmailAndNoPasswordIsShown(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	env := apptest.New(t, withSMTP(srv))
	admin, _ := env.SignedIn(models.RoleAdmin)
	// Malformed form: each field gets its error, values are kept.
	res := admin.Post("/admin/users", url.Values{"name": {""}, "email": {"not-an-email"}, "role": {"boss"}}).Expect(http.StatusUnprocessableEntity)
	res.Contains("Enter the person's name.").Contains("Enter an email address like name@hospital.org.").Contains("Choose one of: admin, storyteller, reviewer, publisher.")
	if res.Doc.Find("#email").AttrOr("value", "") != "not-an-email" || res.Doc.Find("#email").AttrOr("aria-invalid", "") != "true" {
		t.Fatal("submitted email should be kept and marked invalid")
	}
	res = admin.Post("/admin/users", url.Values{"name": {"Sam Teller"}, "email": {"Sam@Hospital.test"}, "role": {"storyteller"}}).Expect(http.StatusSeeOther)
	list := admin.Get(res.Location()).Expect(http.StatusOK).Contains("An invitation was emailed to sam@hospital.test. Sam Teller will join as Storyteller.")
	if list.Doc.Find("main code").Length() != 0 || strings.Contains(list.Body, "password for") {
		t.Fatal("the users page must not show a password")
	}
	admin.Post("/admin/users", url.Values{"name": {"Sam 2"}, "email": {"sam@hospital.test"}, "role": {"reviewer"}}).Expect(http.StatusUnprocessableEntity).Contains("A user with this email already exists.")

	link := mailedLink(t, srv, "sam@hospital.test", "Storykeep: your invitation")
	// Hashed at rest: the token is nowhere in the database.
	token := link[strings.LastIndex(link, "/")+1:]
	var stored []models.UserLink
	env.App.DB.Find(&stored)
	if len(stored) != 1 || stored[0].TokenHash == token || strings.Contains(stored[0].TokenHash, token) || len(stored[0].TokenHash) != 64 {
		t.Fatalf("link stored as %+v", stored)
	}
	// The invited person cannot sign in before choosing a password.
	env.Client().Login("sam@hospital.test", "").Expect(http.StatusUnauthorized)

	sam := env.Client()
	sam.Get(link).Expect(http.StatusOK).Contains("Welcome to Storykeep, Sam Teller")
	sam.Post(link, url.Values{"password": {"a much longer passphrase"}, "confirm": {"a much longer passphrasf"}}).Expect(http.StatusUnprocessableEntity).Contains("The two passwords are not the same.")
	sam.Post(link, url.Values{"password": {"short"}, "confirm": {"short"}}).Expect(http.StatusUnprocessableEntity).Contains("at least 12 characters")
	res = sam.Post(link, url.Values{"password": {"a much longer passphrase"}, "confirm": {"a much longer passphrase"}}).Expect(http.StatusSeeOther)
	if res.Location() != "/account/2fa" {
		t.Fatalf("after setting the password: %s (want the optional two-step set-up)", res.Location())
	}
	sam.Get("/").Expect(http.StatusOK).Contains("Welcome, Sam Teller")
	env.Client().Login("sam@hospital.test", "a much longer passphrase").Expect(http.StatusSeeOther)

	// Reused: the link is spent.
	other := env.Client()
	other.Get(link).Expect(http.StatusGone).Contains("This link no longer works")
	other.Post(link, url.Values{"password": {"an attacker's passphrase"}, "confirm": {"an attacker's passphrase"}}).Expect(http.StatusGone)
	env.Client().Login("sam@hospital.test", "an attacker's passphrase").Expect(http.StatusUnauthorized)
	if len(auditActions(t, env, "user.invite")) != 1 || len(auditActions(t, env, "user.invite_accepted")) != 1 {
		t.Fatal("invitation not audited")
	}
}

func TestInvitationLinkExpiredAndGuessed(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	env := apptest.New(t, withSMTP(srv), func(c *config.Config) { c.InviteLinkHours = 2 })
	admin, _ := env.SignedIn(models.RoleAdmin)
	admin.Post("/admin/users", url.Values{"name": {"Kim"}, "email": {"kim@hospital.test"}, "role": {"reviewer"}}).Expect(http.StatusSeeOther)
	link := mailedLink(t, srv, "kim@hospital.test", "Storykeep: your invitation")
	if !strings.Contains(srv.Last(t).Text, "for 2 hours") {
		t.Fatal("the email should say how long the link works")
	}
	var l models.UserLink
	env.App.DB.Take(&l)
	if d := time.Until(l.ExpiresAt); d < 119*time.Minute || d > 121*time.Minute {
		t.Fatalf("link expires in %s, want the configured 2h", d)
	}
	// Guessed: a random token, and the real one with a changed character.
	c := env.Client()
	c.Get("/invite/" + strings.Repeat("A", 43)).Expect(http.StatusGone)
	tampered := link[:len(link)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(link, "A")]
	c.Get(tampered).Expect(http.StatusGone)
	c.Post(tampered, url.Values{"password": {"a much longer passphrase"}, "confirm": {"a much longer passphrase"}}).Expect(http.StatusGone)
	// Expired: two hours and a bit later.
	env.App.DB.Model(&models.UserLink{}).Where("id = ?", l.ID).Update("expires_at", time.Now().UTC().Add(-time.Minute))
	c.Get(link).Expect(http.StatusGone).Contains("has expired")
	c.Post(link, url.Values{"password": {"a much longer passphrase"}, "confirm": {"a much longer passphrase"}}).Expect(http.StatusGone)
	// A new invitation replaces it; the new link works.
	kim, _ := env.App.Users.GetByEmail(context.Background(), "kim@hospital.test")
	admin.Post("/admin/users/"+kim.ID+"/invite", nil).Expect(http.StatusSeeOther)
	fresh := mailedLink(t, srv, "kim@hospital.test", "Storykeep: your invitation")
	if fresh == link {
		t.Fatal("a new invitation must have a new link")
	}
	c.Get(fresh).Expect(http.StatusOK)
}

func TestInvitationStraightToSSO(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	env, _ := newSSOEnv(t, withSMTP(srv), func(c *config.Config) {
		c.OIDCCreateUsers, c.LocalPasswords, c.BreakGlassEmail = false, false, "breakglass@hospital.test"
	})
	if _, err := env.App.Users.Create(audit.WithActor(context.Background(), audit.System), users.NewUser{Email: "breakglass@hospital.test", Name: "Emergency admin", Role: models.RoleAdmin, Password: "break glass in case of fire"}); err != nil {
		t.Fatal(err)
	}
	admin := env.Client()
	admin.Login("breakglass@hospital.test", "break glass in case of fire").Expect(http.StatusSeeOther)
	admin.Post("/admin/users", url.Values{"name": {"Ana"}, "email": {"ana@hospital.test"}, "role": {"reviewer"}}).Expect(http.StatusSeeOther)
	if !strings.Contains(srv.Last(t).Text, "sign in with Hospital ID") {
		t.Fatalf("invitation should point to single sign-on: %q", srv.Last(t).Text)
	}
	link := mailedLink(t, srv, "ana@hospital.test", "Storykeep: your invitation")
	ana := env.Client()
	page := ana.Get(link).Expect(http.StatusOK)
	if page.Doc.Find("input[name=password]").Length() != 0 || page.Doc.Find(`a#sso[href="/login/sso"]`).Text() != "Sign in with Hospital ID" {
		t.Fatal("with local passwords off the invitation leads straight to single sign-on")
	}
	// Setting a password through the link is refused.
	ana.Post(link, url.Values{"password": {"a much longer passphrase"}, "confirm": {"a much longer passphrase"}}).Expect(http.StatusForbidden)
	back := ssotest.Login(t, ssoStart(t, ana), "ana")
	ana.Get(back.RequestURI()).Expect(http.StatusSeeOther)
	ana.Get("/").Expect(http.StatusOK)
	u, _ := env.App.Users.GetByEmail(context.Background(), "ana@hospital.test")
	if u.Role != models.RoleStoryteller || u.PasswordHash != "" {
		t.Fatalf("the provider's groups decide the role; no password: %+v", u)
	}
	env.Client().Get(link).Expect(http.StatusGone)
}

func TestPasswordResetByEmail(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	env := apptest.New(t, withSMTP(srv), func(c *config.Config) { c.LoginMaxFailures = 2 })
	u, oldPW := env.CreateUser(models.RoleStoryteller)
	c := env.Client()
	c.Get("/login").Expect(http.StatusOK).Contains("Forgot your password?")
	// No enumeration: an unknown address gets the same page and no email.
	unknown := c.Post("/password/forgot", url.Values{"email": {"nobody@hospital.test"}}).Expect(http.StatusOK)
	known := c.Post("/password/forgot", url.Values{"email": {strings.ToUpper(u.Email)}}).Expect(http.StatusOK)
	if unknown.Text("main") != known.Text("main") {
		t.Fatalf("answers differ:\n%s\n%s", unknown.Text("main"), known.Text("main"))
	}
	waitMessages(t, srv, 1)
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d emails, want 1 (none for the unknown address)", n)
	}
	link := mailedLink(t, srv, u.Email, "Storykeep: reset your password")
	c.Get(link).Expect(http.StatusOK)
	c.Post(link, url.Values{"password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}}).Expect(http.StatusSeeOther)
	env.Client().Login(u.Email, oldPW).Expect(http.StatusUnauthorized)
	env.Client().Login(u.Email, "a brand new passphrase").Expect(http.StatusSeeOther)
	// Used once only.
	c.Get(link).Expect(http.StatusGone)
	// Expired.
	c.Post("/password/forgot", url.Values{"email": {u.Email}}).Expect(http.StatusOK)
	waitMessages(t, srv, 2)
	link2 := mailedLink(t, srv, u.Email, "Storykeep: reset your password")
	env.App.DB.Model(&models.UserLink{}).Where("purpose = ? AND used_at IS NULL", models.LinkReset).Update("expires_at", time.Now().UTC().Add(-time.Second))
	c.Post(link2, url.Values{"password": {"yet another passphrase"}, "confirm": {"yet another passphrase"}}).Expect(http.StatusGone)
	// Throttled like sign-in: the third request in the window sends nothing.
	before := len(srv.Messages())
	c.Post("/password/forgot", url.Values{"email": {u.Email}}).Expect(http.StatusOK).Contains("If a Storykeep account with a password uses that address")
	time.Sleep(300 * time.Millisecond)
	if len(srv.Messages()) != before {
		t.Fatal("a throttled reset request still sent an email")
	}
}

// TestTemporaryPasswordMustBeChanged: accounts that still get a temporary
// password (the first admin, `storykeep user create` without --password)
// must choose their own before anything else.
func TestTemporaryPasswordMustBeChanged(t *testing.T) {
	env := apptest.New(t)
	temp := "temporary passphrase 1234"
	if _, err := env.App.Users.Create(audit.WithActor(context.Background(), audit.System), users.NewUser{Email: "sam@hospital.test", Name: "Sam Teller", Role: models.RoleStoryteller, Password: temp, MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	sam := env.Client()
	if res := sam.Login("sam@hospital.test", temp).Expect(http.StatusSeeOther); res.Location() != "/account/password" {
		t.Fatalf("temporary password must be changed first, went to %q", res.Location())
	}
	if sam.Get("/").Location() != "/account/password" {
		t.Fatal("other pages must wait until the password is changed")
	}
	sam.Post("/account/password", url.Values{"current": {temp}, "new": {"short"}}).Expect(http.StatusUnprocessableEntity).Contains("at least 12 characters")
	sam.Post("/account/password", url.Values{"current": {"wrong one"}, "new": {"a much longer passphrase"}}).Expect(http.StatusUnprocessableEntity).Contains("Your current password is not right.")
	sam.Post("/account/password", url.Values{"current": {temp}, "new": {"a much longer passphrase"}}).Expect(http.StatusSeeOther)
	sam.Get("/").Expect(http.StatusOK).Contains("Welcome, Sam Teller").Contains("Your password has been changed.")
	env.Client().Login("sam@hospital.test", "a much longer passphrase").Expect(http.StatusSeeOther)
}
