package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/models"
)

// TestF6OpenRedirectAfterSignIn: the finding's tab trick, through the real
// sign-in form, lands on the home page.
func TestF6OpenRedirectAfterSignIn(t *testing.T) {
	env := apptest.New(t)
	u, pw := env.CreateUser(models.RoleStoryteller)
	c := env.Client()
	form := c.Get("/login?next=/%09/evil.example").Expect(http.StatusOK)
	if v := form.Doc.Find("input[name=next]").AttrOr("value", "/"); v != "/" {
		t.Fatalf("the sign-in form carries next=%q", v)
	}
	for _, next := range []string{"/\t/evil.example", "/\\evil.example", "/%2f%2fevil.example", "javascript:alert(1)"} {
		c := env.Client()
		res := c.Post("/login", url.Values{"email": {u.Email}, "password": {pw}, "next": {next}}).Expect(http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Fatalf("next %q: redirected to %q", next, loc)
		}
	}
	// A signed-out visit to a page with a query comes back to it whole.
	c = env.Client()
	loc := c.Get("/stories?q=a%20b&page=2").Header.Get("Location")
	lu, _ := url.Parse(loc)
	if lu.Query().Get("next") != "/stories?q=a%20b&page=2" {
		t.Fatalf("sign-in link %q", loc)
	}
}

// TestF14CSRFBoundToSession: a planted cookie with a matching token, another
// session's token, a token from before sign-in and a token in the query
// string are all refused; the client's own token works.
func TestF14CSRFBoundToSession(t *testing.T) {
	env := apptest.New(t)
	u, pw := env.CreateUser(models.RoleStoryteller)
	victim := env.Client()
	before := victim.CSRF()
	victim.Login(u.Email, pw).Expect(http.StatusSeeOther)
	after := victim.CSRF()
	if before == after {
		t.Fatal("the CSRF token did not change at sign-in")
	}
	post := func(c *apptest.Client, path string, form url.Values, query string) *apptest.Resp {
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+path+query, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return c.Do(req)
	}
	read := url.Values{}
	// The token from before sign-in.
	post(victim, "/inbox/read-all", url.Values{"_csrf": {before}}, "").Expect(http.StatusForbidden)
	// The old double-submit attack: plant a nonce cookie and send it as the token.
	planted := env.Client()
	planted.Login(u.Email, pw).Expect(http.StatusSeeOther)
	su, _ := url.Parse(env.Server.URL)
	planted.Jar().SetCookies(su, []*http.Cookie{{Name: "storykeep_csrf", Value: strings.Repeat("A", 43), Path: "/"}})
	post(planted, "/inbox/read-all", url.Values{"_csrf": {strings.Repeat("A", 43)}}, "").Expect(http.StatusForbidden)
	// Another session's token (the attacker's own).
	attacker, _ := env.SignedIn(models.RoleStoryteller)
	post(victim, "/inbox/read-all", url.Values{"_csrf": {attacker.CSRF()}}, "").Expect(http.StatusForbidden)
	// The right token, but in the query string.
	post(victim, "/inbox/read-all", read, "?_csrf="+url.QueryEscape(victim.CSRF())).Expect(http.StatusForbidden)
	// The right token in the form, and in the header.
	post(victim, "/inbox/read-all", url.Values{"_csrf": {victim.CSRF()}}, "").Expect(http.StatusSeeOther)
	req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/inbox/read-all", nil)
	req.Header.Set("X-CSRF-Token", victim.CSRF())
	victim.Do(req).Expect(http.StatusSeeOther)
	// The token rendered into pages is the one that works.
	page := victim.Get("/account/password").Expect(http.StatusOK)
	if got := page.Doc.Find("input[name=_csrf]").First().AttrOr("value", ""); got != victim.CSRF() {
		t.Fatalf("the page's token %q is not the session's %q", got, victim.CSRF())
	}
	// Sign-out rotates it again.
	signedIn := victim.CSRF()
	victim.Post("/logout", nil).Expect(http.StatusSeeOther)
	if victim.CSRF() == signedIn {
		t.Fatal("the CSRF token outlived sign-out")
	}
}

// TestF12CredentialChangesEndOtherSessions: a password change ends the
// user's other sessions and keeps the one it was made in; an admin's 2FA
// reset ends all of them; turning 2FA off asks for the password again.
func TestF12CredentialChangesEndOtherSessions(t *testing.T) {
	env := apptest.New(t)
	u, pw := env.CreateUser(models.RoleStoryteller)
	a, b := env.Client(), env.Client()
	a.Login(u.Email, pw).Expect(http.StatusSeeOther)
	b.Login(u.Email, pw).Expect(http.StatusSeeOther)
	b.Get("/").Expect(http.StatusOK)
	a.Post("/account/password", url.Values{"current": {pw}, "new": {"a brand new passphrase here"}}).Expect(http.StatusSeeOther)
	a.Get("/").Expect(http.StatusOK)
	if loc := b.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("the other session survived the password change: %q", loc)
	}

	// 2FA: enrolling and turning off need the password.
	pw = "a brand new passphrase here"
	secret := a.Get("/account/2fa").Doc.Find("input[name=secret]").AttrOr("value", "")
	a.Post("/account/2fa", url.Values{"secret": {secret}, "code": {totpNow(secret)}}).Expect(http.StatusUnprocessableEntity).Contains("Your password is not right")
	a.Post("/account/2fa", url.Values{"secret": {secret}, "code": {totpNow(secret)}, "password": {pw}}).Expect(http.StatusSeeOther)
	a.Post("/account/2fa/disable", nil).Expect(http.StatusUnprocessableEntity).Contains("Your password is not right")
	if stored, _ := env.App.Users.Get(t.Context(), u.ID); !stored.TOTPEnabled {
		t.Fatal("2FA was turned off without the password")
	}
	a.Post("/account/2fa/disable", url.Values{"password": {pw}}).Expect(http.StatusSeeOther)
	if stored, _ := env.App.Users.Get(t.Context(), u.ID); stored.TOTPEnabled {
		t.Fatal("2FA stayed on")
	}

	// An admin's 2FA reset ends every session of the user.
	c := env.Client()
	c.Login(u.Email, pw).Expect(http.StatusSeeOther)
	c.Get("/").Expect(http.StatusOK)
	if err := env.App.Users.DisableTOTP(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	for name, cl := range map[string]*apptest.Client{"a": a, "c": c} {
		if loc := cl.Get("/").Location(); !strings.HasPrefix(loc, "/login") {
			t.Fatalf("session %s survived the 2FA reset: %q", name, loc)
		}
	}
}

func totpNow(secret string) string { return auth.TOTPCode(secret, time.Now()) }

// TestF19StaffPagesAndMediaAreNotStored: staff pages (a patient's details, a
// story) and staff media carry no-store; the public page keeps its caching.
func TestF19StaffPagesAndMediaAreNotStored(t *testing.T) {
	env := apptest.New(t)
	withGate(env, website.NameFull)
	storyID, assetID := publishedStory(t, env)
	admin, _ := env.SignedIn(models.RoleAdmin)
	var st models.Story
	env.App.DB.Where("id = ?", storyID).Take(&st)
	for _, p := range []string{"/", "/patients/" + st.PatientID, "/stories/" + storyID, "/media/" + assetID + "/r/thumbnail", "/account/password"} {
		res := admin.Get(p).Expect(http.StatusOK)
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", p, cc)
		}
	}
	if cc := env.Client().Get("/login").Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("sign-in page: Cache-Control %q", cc)
	}
	res := env.Client().Get("/p/walks-again").Expect(http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("public page: Cache-Control %q, want no-cache as before", cc)
	}
}

// TestF21FeedsCarryNoRemoteImages: a remote image in a published story's
// body reaches neither the page nor the Atom and JSON feeds; remote links get
// rel="nofollow noopener".
func TestF21FeedsCarryNoRemoteImages(t *testing.T) {
	env := apptest.New(t)
	withGate(env, website.NameFull)
	storyID, _ := publishedStory(t, env)
	if err := env.App.DB.Exec("UPDATE stories SET body = body || ? WHERE id = ?", "\n\n![px](http://evil.example/track.png) See [more](https://evil.example/more).", storyID).Error; err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	for _, p := range []string{"/p/walks-again", "/feed.json", "/feed.atom"} {
		body := c.Get(p).Expect(http.StatusOK).Body
		if strings.Contains(body, "evil.example/track.png") {
			t.Errorf("%s carries the remote image", p)
		}
		if !strings.Contains(body, "evil.example/more") || !strings.Contains(body, "nofollow noopener") {
			t.Errorf("%s: the remote link is missing or lacks noopener", p)
		}
	}
}
