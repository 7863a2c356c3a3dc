package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/storykeep/storykeep/app/mail/smtptest"
)

// staffMember is someone the admin invites in the journey.
type staffMember struct {
	name, email, role, label string
	invitation               string // path of the emailed invitation link
}

// signIn fills the sign-in form on /login and submits it with the button.
func signIn(p *Page, email, password string) {
	p.t.Helper()
	p.Open("/login")
	if h := p.Heading(); h != "Sign in to Storykeep" {
		p.t.Fatalf("login page heading %q", h)
	}
	p.Type("#email", email)
	p.Type("#password", password)
	p.Click(`form[action="/login"] button[type=submit]`)
}

// changePassword is the forced first-sign-in step: the user is on the change
// password page, told why, and chooses a new password.
func changePassword(p *Page, current, next string) {
	p.t.Helper()
	p.WantPath("/account/password")
	if h := p.Heading(); h != "Change your password" {
		p.t.Fatalf("%s: heading %q, want the change-password page", p.name, h)
	}
	if n := p.Text(".notice"); !strings.Contains(n, "temporary password") {
		p.t.Errorf("%s: change-password notice %q does not explain the temporary password", p.name, n)
	}
	p.Type("#current", current)
	p.Type("#new", next)
	p.Click(`form[action="/account/password"] button[type=submit]`)
	p.WantPath("/")
	if f := p.Text(".flash"); f != "Your password has been changed." {
		p.t.Errorf("%s: flash %q after changing password", p.name, f)
	}
}

// usersTable reads the users table as a person sees it.
func usersTable(p *Page) [][]string {
	p.t.Helper()
	return Eval[[][]string](p, `Array.from(document.querySelectorAll("main table tbody tr"), tr => [
		tr.cells[0].innerText.trim(), tr.cells[1].innerText.trim(),
		tr.cells[2].querySelector("select").selectedOptions[0].textContent.trim(),
		tr.cells[3].innerText.trim()])`)
}

var invitationRe = regexp.MustCompile(`https?://[^/\s]+(/invite/[A-Za-z0-9_-]+)`)

// TestStaffJourney is step 1 of the browser journey (issue 7): first-run
// admin sign-in and forced password change, inviting a storyteller, a
// reviewer and a publisher, and the storyteller's own first sign-in, with
// axe-core on every staff page on the way.
func TestStaffJourney(t *testing.T) {
	t.Parallel()
	mailbox := smtptest.Start(t, smtptest.Options{})
	srv := StartServer(t, "STORYKEEP_MAIL_MODE=smtp", "STORYKEEP_SMTP_HOST="+mailbox.Host, fmt.Sprintf("STORYKEEP_SMTP_PORT=%d", mailbox.Port),
		"STORYKEEP_SMTP_TLS=none", "STORYKEEP_SMTP_FROM=stories@hospital.example")
	b := NewBrowser(t, srv.URL)
	admin := b.NewPage("admin")
	const adminPassword = "lantern orchard velvet 47"

	// Sign in with the one-time password serve printed.
	admin.Open("/login")
	admin.CheckA11y()
	signIn(admin, srv.AdminEmail, srv.AdminPassword)
	admin.CheckA11y() // change password, with its notice

	// A too-short password is refused beside the field, and the page stays accessible.
	admin.Type("#current", srv.AdminPassword)
	admin.Type("#new", "short")
	if st := admin.Submit(chromedp.Click(chromedp.CSS(`form[action="/account/password"] button[type=submit]`))); st != 422 {
		t.Fatalf("short password: status %d, want 422", st)
	}
	if inv := Eval[string](admin, `document.querySelector("#new").getAttribute("aria-invalid") ?? ""`); inv != "true" {
		t.Errorf("short password: #new aria-invalid=%q", inv)
	}
	if e := admin.Text("#new-error"); e == "" {
		t.Error("short password: no message beside the field")
	}
	admin.Text(".alert[role=alert]") // the error summary
	admin.CheckA11y()

	changePassword(admin, srv.AdminPassword, adminPassword)
	if h := admin.Heading(); h != "Welcome, Administrator" {
		t.Fatalf("dashboard heading %q", h)
	}
	if r := admin.Text("main p.muted"); r != "You are signed in as Admin." {
		t.Errorf("dashboard role line %q", r)
	}
	admin.CheckA11y()

	// Users → Invite a user.
	admin.Click(`nav a[href="/admin/users"]`)
	admin.WantPath("/admin/users")
	if h := admin.Heading(); h != "Users" {
		t.Fatalf("users heading %q", h)
	}
	if rows := usersTable(admin); len(rows) != 1 || rows[0][1] != srv.AdminEmail || rows[0][2] != "Admin" {
		t.Fatalf("users table before inviting: %v", rows)
	}
	admin.CheckA11y()

	admin.Click(`a[href="/admin/users/new"]`)
	if h := admin.Heading(); h != "Invite a user" {
		t.Fatalf("invite heading %q", h)
	}
	admin.CheckA11y()

	// An empty form is refused with a summary and a message at each field.
	if st := admin.Submit(chromedp.Click(chromedp.CSS(`form[action="/admin/users"] button[type=submit]`))); st != 422 {
		t.Fatalf("empty invite: status %d, want 422", st)
	}
	if n := len(admin.Texts(".alert[role=alert] li")); n < 3 {
		t.Errorf("empty invite: %d errors in the summary, want name, email and role", n)
	}
	admin.CheckA11y()

	staff := []*staffMember{
		{name: "Sam Storyteller", email: "sam.storyteller@hospital.example", role: "storyteller", label: "Storyteller"},
		{name: "Rita Reviewer", email: "rita.reviewer@hospital.example", role: "reviewer", label: "Legal reviewer"},
		{name: "Paul Publisher", email: "paul.publisher@hospital.example", role: "publisher", label: "Publisher"},
	}
	for i, m := range staff {
		if i > 0 {
			admin.Click(`a[href="/admin/users/new"]`)
			admin.WantPath("/admin/users/new")
		}
		if h := admin.Heading(); h != "Invite a user" {
			t.Fatalf("invite heading %q", h)
		}
		// After the failed attempt the fields keep what was typed; start clean.
		admin.Do(chromedp.Clear(chromedp.CSS("#name")), chromedp.Clear(chromedp.CSS("#email")))
		admin.Type("#name", m.name)
		admin.Type("#email", m.email)
		admin.Choose("#role", m.label)
		admin.Click(`form[action="/admin/users"] button[type=submit]`)
		admin.WantPath("/admin/users")
		if f, want := admin.Text(".flash"), "An invitation was emailed to "+m.email+". "+m.name+" will join as "+m.label+"."; f != want {
			t.Errorf("flash after inviting %s: %q, want %q", m.name, f, want)
		}
		if n := admin.Texts("main code"); len(n) != 0 {
			t.Errorf("the users page shows something like a password: %v", n)
		}
		mail := mailbox.Last(t)
		link := invitationRe.FindStringSubmatch(mail.Text)
		if !strings.Contains(mail.To, m.email) || link == nil {
			t.Fatalf("invitation email to %q: %q", mail.To, mail.Text)
		}
		m.invitation = link[1]
		if i == 0 {
			admin.CheckA11y() // users page with the flash
		}
	}

	rows := usersTable(admin)
	if len(rows) != 4 {
		t.Fatalf("users table has %d rows, want 4: %v", len(rows), rows)
	}
	for _, m := range staff {
		want := []string{m.name, m.email, m.label, "Active"}
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("users table has no row %v: %v", want, rows)
		}
	}
	admin.Screenshot("users")
	admin.Open("/") // the dashboard once the team exists
	admin.Screenshot("dashboard")

	// The storyteller opens the emailed link in a fresh browser context,
	// chooses a password, is offered two-step sign-in, and sees their dashboard.
	st := staff[0]
	teller := b.NewPage("storyteller")
	teller.Open(st.invitation)
	if h := teller.Heading(); h != "Welcome to Storykeep, "+st.name {
		t.Fatalf("invitation page heading %q", h)
	}
	teller.CheckA11y()
	teller.Type("#password", "harbour maple cinder 81")
	teller.Type("#confirm", "harbour maple cinder 81")
	teller.Click(`main form button[type=submit]`)
	teller.WantPath("/account/2fa")
	teller.Open("/")
	if h := teller.Heading(); h != "Welcome, "+st.name {
		t.Fatalf("storyteller dashboard heading %q", h)
	}
	if r := teller.Text("main p.muted"); r != "You are signed in as Storyteller." {
		t.Errorf("storyteller role line %q", r)
	}
	if nav := teller.Texts("nav a"); slices.Contains(nav, "Users") || slices.Contains(nav, "Audit log") {
		t.Errorf("storyteller sees admin screens in the navigation: %v", nav)
	}
	if out := teller.Text("nav button"); out != "Sign out ("+st.name+")" {
		t.Errorf("storyteller sign-out button %q", out)
	}
	teller.CheckA11y()

	// The admin sees all of it in the audit log.
	admin.Click(`nav a[href="/admin/audit"]`)
	if h := admin.Heading(); h != "Audit log" {
		t.Fatalf("audit heading %q", h)
	}
	actions := admin.Texts("main table tbody tr td:nth-child(4)")
	if n := countOf(actions, "user.create"); n != 1 { // the first admin
		t.Errorf("audit log shows %d user.create entries, want 1: %v", n, actions)
	}
	if n := countOf(actions, "user.invite"); n != 3 {
		t.Errorf("audit log shows %d user.invite entries, want 3: %v", n, actions)
	}
	if n := countOf(actions, "session.login"); n < 2 {
		t.Errorf("audit log shows %d sign-ins, want the admin's and the storyteller's: %v", n, actions)
	}
	if actors := strings.Join(admin.Texts("main table tbody tr td:nth-child(3)"), "\n"); !strings.Contains(actors, st.email) {
		t.Errorf("audit log does not name the storyteller %s as an actor", st.email)
	}
	admin.CheckA11y()
	admin.Screenshot("audit-log")

	// Two-step sign-in set-up page: QR code drawn, key shown.
	admin.Open("/account/2fa")
	if h := admin.Heading(); h != "Two-step sign-in" {
		t.Fatalf("2FA heading %q", h)
	}
	if !Eval[bool](admin, `(() => { const i = document.querySelector("main img"); return !!i && i.complete && i.naturalWidth > 0 })()`) {
		t.Errorf("2FA page: the QR code image did not load: %.200s", Eval[string](admin, `document.querySelector("main img")?.outerHTML ?? "no img"`))
	}
	if k := admin.Text("main .card code"); len(k) < 16 {
		t.Errorf("2FA page: key %q", k)
	}
	admin.CheckA11y()

	// Sign out.
	admin.Click(`form[action="/logout"] button`)
	admin.WantPath("/login")
	if n := admin.Text(".flash"); n != "You have signed out." {
		t.Errorf("after sign-out: %q", n)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// focusInfo describes document.activeElement and how its focus is drawn.
type focusInfo struct {
	ID, Class, Tag, Text string
	Outline, OutlineW    string
	Shadow               string
	InView               bool
}

const focusJS = `(() => {
	const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
	return {ID: e.id, Class: e.className, Tag: e.tagName.toLowerCase(), Text: (e.innerText || e.value || "").trim(),
		Outline: s.outlineStyle, OutlineW: s.outlineWidth, Shadow: s.boxShadow,
		InView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth};
})()`

func (f focusInfo) key() string {
	switch {
	case f.Class == "skip":
		return "skip"
	case f.ID != "":
		return f.ID
	case f.Tag == "button":
		return "button:" + f.Text
	}
	return f.Tag + ":" + f.Text
}

func (f focusInfo) visible() bool {
	outline := f.Outline != "none" && f.OutlineW != "0px"
	return f.InView && (outline || (f.Shadow != "" && f.Shadow != "none"))
}

// TestLoginKeyboard signs in with the keyboard alone: Tab reaches the skip
// link, email, password and the Sign in button in that order, each with a
// visible focus indicator, and Enter submits.
func TestLoginKeyboard(t *testing.T) {
	t.Parallel()
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("keyboard")
	p.Open("/login")

	var order []string
	for range 8 {
		p.Do(chromedp.KeyEvent(kb.Tab))
		f := Eval[focusInfo](p, focusJS)
		k := f.key()
		if slices.Contains(order, k) {
			break // wrapped round
		}
		order = append(order, k)
		if !f.visible() {
			t.Errorf("focused %s has no visible focus indicator (outline %s %s, box-shadow %s, in view %v)", k, f.Outline, f.OutlineW, f.Shadow, f.InView)
		}
		switch k {
		case "email":
			p.Do(chromedp.KeyEvent(srv.AdminEmail))
		case "password":
			p.Do(chromedp.KeyEvent(srv.AdminPassword))
		}
		if k == "button:Sign in" {
			break
		}
	}
	if len(order) == 0 || order[0] != "skip" {
		t.Errorf("first Tab stop is %v, want the skip link", order)
	}
	want := []string{"skip", "email", "password", "button:Sign in"}
	i := 0
	for _, k := range order {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("tab order %v does not reach %v in that order", order, want)
	}
	t.Logf("tab order: %v", order)

	// Back in the password field, Enter submits the form.
	p.Do(chromedp.Focus(chromedp.ID("password")))
	if st := p.Submit(chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("Enter in the sign-in form: status %d", st)
	}
	p.WantPath("/account/password")
	if h := p.Heading(); h != "Change your password" {
		t.Errorf("after signing in with the keyboard: heading %q", h)
	}
}

// TestAxeHarness shows that the page's CSP is in force (an inline script is
// blocked and reported) while axe-core, injected through DevTools, runs, and
// that it does catch a planted violation.
func TestAxeHarness(t *testing.T) {
	t.Parallel()
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("csp")
	res, err := chromedp.Run(p.Ctx(), chromedp.NavigateResponse(srv.URL+"/login"))
	if err != nil {
		t.Fatal(err)
	}
	var csp string
	for k, v := range res.Headers {
		if strings.EqualFold(k, "Content-Security-Policy") {
			csp, _ = v.(string)
		}
	}
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("login page CSP %q: want script-src 'self' without unsafe-inline/unsafe-eval", csp)
	}
	blocked := Eval[string](p, `new Promise(resolve => {
		document.addEventListener("securitypolicyviolation", e => resolve(e.effectiveDirective), {once: true});
		const s = document.createElement("script");
		s.textContent = "window.__inlineRan = true";
		document.head.appendChild(s);
		setTimeout(() => resolve(window.__inlineRan ? "ran" : "no report"), 2000);
	})`)
	if blocked != "script-src-elem" {
		t.Fatalf("inline script on a Storykeep page: %q, want it blocked by CSP (script-src-elem)", blocked)
	}
	p.InjectAxe()
	if v := Eval[string](p, `axe.version`); !strings.HasPrefix(v, "4.") {
		t.Fatalf("axe.version %q", v)
	}
	p.CheckA11y()

	// A planted image without alt text must be reported as critical.
	p.Do(chromedp.Evaluate[chromedp.Void](`document.querySelector("main").append(Object.assign(document.createElement("img"), {src: "/favicon.ico"}))`))
	found := false
	for _, v := range p.AxeViolations() {
		found = found || (v.ID == "image-alt" && v.Impact == "critical")
	}
	if !found {
		t.Error("axe did not report the planted image without alt text")
	}
}

// TestLoginPageWeight measures what a first visit to the sign-in page
// downloads (see PageWeight); the consent page will get the same check with
// a budget for patients on mobile data.
func TestLoginPageWeight(t *testing.T) {
	t.Parallel()
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("weight")
	n, err := PageWeight(p.Ctx(), srv.URL+"/login")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("login page weight: %d bytes (%.1f KB) transferred, cache disabled", n, float64(n)/1024)
	const budget = 50 * 1024
	if n <= 0 || n > budget {
		t.Errorf("login page weight %d bytes, want between 1 and %d", n, budget)
	}
}

// TestLoginOnPhone checks the phone viewport helper on the sign-in page: no
// sideways scrolling at 390px, and axe passes.
func TestLoginOnPhone(t *testing.T) {
	t.Parallel()
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	p := b.NewPhonePage("phone")
	p.Open("/login")
	if w := Eval[int](p, `window.innerWidth`); w != PhoneWidth {
		t.Errorf("phone viewport width %d, want %d", w, PhoneWidth)
	}
	if sw := Eval[int](p, `document.documentElement.scrollWidth`); sw > PhoneWidth {
		t.Errorf("login page is %dpx wide on a %dpx phone: it scrolls sideways", sw, PhoneWidth)
	}
	p.CheckA11y()
}
