package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/models"
)

func TestLoginWrongPasswordAndThrottle(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.LoginMaxFailures = 3 })
	u, pw := env.CreateUser(models.RoleStoryteller)
	c := env.Client()
	for i := 0; i < 3; i++ {
		res := c.Login(u.Email, "wrong password!!").Expect(http.StatusUnauthorized)
		res.Contains("That email and password do not match an active account.")
		if got := res.Doc.Find("#email").AttrOr("value", ""); got != u.Email {
			t.Fatalf("email not kept in the form: %q", got)
		}
	}
	// Locked now, even with the right password.
	c.Login(u.Email, pw).Expect(http.StatusTooManyRequests).Contains("Too many failed sign-in attempts. Wait")
	// An unknown account gives the same message as a wrong password.
	env.Client().Login("nobody@hospital.test", "whatever whatever").Expect(http.StatusUnauthorized).Contains("do not match an active account")
	if strings.Contains(env.Logs.String(), u.Email) {
		t.Fatal("log must not contain the email")
	}
}

func TestLoginLogoutAndDashboard(t *testing.T) {
	env := apptest.New(t)
	u, pw := env.CreateUser(models.RolePublisher)
	c := env.Client()
	res := c.Login(u.Email, pw).Expect(http.StatusSeeOther)
	if res.Location() != "/" {
		t.Fatalf("redirect to %q", res.Location())
	}
	c.Get("/").Expect(http.StatusOK).Contains("Welcome, " + u.Name).Contains("Publisher")
	c.Post("/logout", nil).Expect(http.StatusSeeOther)
	if loc := c.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("after logout / should redirect to sign-in, got %q", loc)
	}
}

func TestLoginRedirectsToNextButNotOffSite(t *testing.T) {
	env := apptest.New(t)
	u, pw := env.CreateUser(models.RoleAdmin)
	c := env.Client()
	loc := c.Get("/admin/audit").Location()
	if loc != "/login?next=/admin/audit" {
		t.Fatalf("got %q", loc)
	}
	res := c.Post("/login", url.Values{"email": {u.Email}, "password": {pw}, "next": {"/admin/audit"}})
	if res.Location() != "/admin/audit" {
		t.Fatalf("next ignored: %q", res.Location())
	}
	c2 := env.Client()
	res = c2.Post("/login", url.Values{"email": {u.Email}, "password": {pw}, "next": {"//evil.example/x"}})
	if res.Location() != "/" {
		t.Fatalf("open redirect: %q", res.Location())
	}
}

func TestMissingCSRFTokenIsRefused(t *testing.T) {
	env := apptest.New(t)
	u, pw := env.CreateUser(models.RoleAdmin)
	c := env.Client()
	c.CSRF()
	res := c.PostRaw("/login", url.Values{"email": {u.Email}, "password": {pw}}).Expect(http.StatusForbidden)
	res.Contains("This form has expired or did not come from Storykeep")
	signed, _ := env.SignedIn(models.RoleAdmin)
	signed.PostRaw("/admin/users", url.Values{"email": {"x@hospital.test"}, "name": {"X"}, "role": {"admin"}}).Expect(http.StatusForbidden)
	signed.PostRaw("/admin/users", url.Values{"_csrf": {"forged-token-value-000000000000"}, "email": {"x@hospital.test"}, "name": {"X"}, "role": {"admin"}}).Expect(http.StatusForbidden)
	if _, err := env.App.Users.GetByEmail(t.Context(), "x@hospital.test"); err == nil {
		t.Fatal("user was created without a valid CSRF token")
	}
}

func TestExpiredSession(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleStoryteller)
	c.Get("/").Expect(http.StatusOK)
	if err := env.App.DB.Exec("UPDATE sessions SET expiry = ?", time.Now().Add(-time.Minute).UTC()).Error; err != nil {
		t.Fatal(err)
	}
	if loc := c.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("expired session GET: want redirect to sign-in, got %q", loc)
	}
	c.Post("/account/password", url.Values{"current": {"x"}, "new": {"y"}}).Expect(http.StatusUnauthorized).Contains("Your session has ended. Sign in again")
}

func TestIdleTimeoutEndsSession(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.SessionIdleTimeout = time.Second })
	c, _ := env.SignedIn(models.RoleStoryteller)
	c.Get("/").Expect(http.StatusOK)
	time.Sleep(1100 * time.Millisecond)
	if loc := c.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("idle session should have ended, got %q", loc)
	}
}

func TestDisabledUserIsSignedOut(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleReviewer)
	admin, _ := env.SignedIn(models.RoleAdmin)
	admin.Post("/admin/users/"+u.ID+"/disable", nil).Expect(http.StatusSeeOther)
	if loc := c.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("disabled user still signed in: %q", loc)
	}
	var n int64
	env.App.DB.Table("sessions").Count(&n)
	if n != 1 {
		t.Fatalf("disabled user's session should be destroyed, %d sessions left", n)
	}
}

func TestForbiddenAndUnknownRoutes(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleStoryteller)
	c.Get("/admin/users").Expect(http.StatusForbidden).Contains("Your role (Storyteller) does not allow this")
	res := c.Get("/no/such/page").Expect(http.StatusNotFound)
	res.Contains("Page not found").Contains("There is nothing at this address")
	if res.Doc.Find("code").Length() == 0 {
		t.Fatal("error page should show a reference (request id)")
	}
}

func TestRoleChangeAndLastAdminGuard(t *testing.T) {
	env := apptest.New(t)
	admin, me := env.SignedIn(models.RoleAdmin)
	other, _ := env.CreateUser(models.RoleStoryteller)
	admin.Post("/admin/users/"+other.ID+"/role", url.Values{"role": {"publisher"}}).Expect(http.StatusSeeOther)
	if u, _ := env.App.Users.Get(t.Context(), other.ID); u.Role != models.RolePublisher {
		t.Fatalf("role is %s", u.Role)
	}
	admin.Post("/admin/users/"+other.ID+"/role", url.Values{"role": {"king"}}).Expect(http.StatusUnprocessableEntity).Contains("Choose one of")
	admin.Post("/admin/users/"+me.ID+"/role", url.Values{"role": {"storyteller"}}).Expect(http.StatusConflict).Contains("only active admin")
	admin.Post("/admin/users/"+me.ID+"/disable", nil).Expect(http.StatusConflict).Contains("cannot disable your own account")
	admin.Post("/admin/users/nope/role", url.Values{"role": {"publisher"}}).Expect(http.StatusNotFound)
}

func TestTwoFactorSignIn(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleAdmin)
	page := c.Get("/account/2fa").Expect(http.StatusOK)
	secret := page.Doc.Find("input[name=secret]").AttrOr("value", "")
	if secret == "" || page.Doc.Find("img[alt]").Length() != 1 {
		t.Fatal("enrolment page must show a QR code with alt text and carry the secret")
	}
	c.Post("/account/2fa", url.Values{"secret": {secret}, "code": {"000000"}, "password": {"correct horse battery admin"}}).Expect(http.StatusUnprocessableEntity).Contains("That code does not match")
	c.Post("/account/2fa", url.Values{"secret": {secret}, "code": {auth.TOTPCode(secret, time.Now())}, "password": {"correct horse battery admin"}}).Expect(http.StatusSeeOther)
	stored, _ := env.App.Users.Get(t.Context(), u.ID)
	if !stored.TOTPEnabled || strings.Contains(stored.TOTPSecret, secret) {
		t.Fatal("TOTP must be on and its secret sealed at rest")
	}
	pw := "correct horse battery admin"
	n := env.Client()
	res := n.Login(u.Email, pw).Expect(http.StatusSeeOther)
	if res.Location() != "/login/totp" {
		t.Fatalf("want code step, got %q", res.Location())
	}
	if loc := n.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatal("password alone must not sign in a 2FA user")
	}
	n.Post("/login/totp", url.Values{"code": {"123456"}}).Expect(http.StatusUnauthorized).Contains("That code is not right")
	n.Post("/login/totp", url.Values{"code": {auth.TOTPCode(secret, time.Now())}}).Expect(http.StatusSeeOther)
	n.Get("/").Expect(http.StatusOK).Contains("Welcome")
}

func TestAdminMustEnrolWhenRequired(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.RequireAdmin2FA = true })
	c, _ := env.SignedIn(models.RoleAdmin)
	if loc := c.Get("/admin/users").Location(); loc != "/account/2fa" {
		t.Fatalf("admin without 2FA should be sent to enrol, got %q", loc)
	}
	c.Get("/account/2fa").Expect(http.StatusOK).Contains("Admins must use two-step sign-in")
	teller, _ := env.SignedIn(models.RoleStoryteller)
	teller.Get("/").Expect(http.StatusOK)
}
