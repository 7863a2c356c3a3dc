package e2e

import (
	"bytes"
	"context"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/text/unicode/norm"

	"github.com/storykeep/storykeep/app/export/exporttest"
	"github.com/storykeep/storykeep/app/mail/smtptest"
)

// JourneyTimeout bounds TestPatientJourney in the browser: it walks six
// people through the whole spine, so it gets more than TestTimeout.
const JourneyTimeout = 8 * time.Minute

// within moves the browser's deadline to d from now (never past the test's
// own deadline, never shorter than TestTimeout); call it before NewPage.
func (b *Browser) within(d time.Duration) {
	if d < TestTimeout {
		d = TestTimeout
	}
	b.deadline = time.Now().Add(d)
	if td, ok := b.t.Deadline(); ok && td.Add(-5*time.Second).Before(b.deadline) {
		b.deadline = td.Add(-5 * time.Second)
	}
}

// consentLinkRe finds a consent (/c/) or revocation (/r/) link in a mail.
var consentLinkRe = regexp.MustCompile(`https?://\S+/(c|r)/[A-Za-z0-9_-]{43}`)

// waitFor polls cond every 100ms until it is true or limit passes, then
// fails the test with what.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pollJS evaluates expr in the page every 100ms until it returns a
// non-empty string or limit passes, riding out navigations (an evaluation
// cut short by a reload is retried); it returns the last result.
func pollJS(p *Page, limit time.Duration, expr string) string {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(p.Ctx(), 2*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		cancel()
		if err == nil && v != "" {
			return v
		}
		if time.Now().After(deadline) {
			if err != nil {
				p.t.Fatalf("%s: waited %s on %s: %v", p.name, limit, p.Path(), err)
			}
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitMail waits for a message to to that satisfies ok, parsed.
func waitMail(t *testing.T, srv *smtptest.Server, to string, limit time.Duration, ok func(*smtptest.Parsed) bool) *smtptest.Parsed {
	t.Helper()
	var found *smtptest.Parsed
	waitFor(t, limit, "an email to "+to, func() bool {
		for _, m := range srv.Messages() {
			p, err := smtptest.Parse(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatalf("parse mail: %v", err)
			}
			if strings.Contains(p.To, to) && ok(p) {
				found = p
				return true
			}
		}
		return false
	})
	return found
}

// mailLink is the consent or revocation link of kind ("c" or "r") in m.
func mailLink(t *testing.T, m *smtptest.Parsed, kind string) *url.URL {
	t.Helper()
	for _, l := range consentLinkRe.FindAllStringSubmatch(strings.ReplaceAll(m.Text, "\n", " "), -1) {
		if l[1] == kind {
			u, err := url.Parse(l[0])
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("mail %q has no /%s/ link:\n%s", m.Subject, kind, m.Text)
	return nil
}

// photoJPEG writes a small JPEG named name, a gradient over base, with an
// EXIF segment (camera make and a GPS pointer, as phones write) into dir
// and returns its path.
func photoJPEG(t *testing.T, dir, name string, base color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 480, 320))
	for y := range 320 {
		for x := range 480 {
			img.Set(x, y, color.RGBA{base.R + uint8(x/8), base.G + uint8(y/8), base.B, 255})
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	// TIFF (little-endian) with one IFD: Make = "StoryCam".
	var tiff bytes.Buffer
	tiff.WriteString("II")
	_ = bin.Write(&tiff, bin.LittleEndian, uint16(42))
	_ = bin.Write(&tiff, bin.LittleEndian, uint32(8))
	_ = bin.Write(&tiff, bin.LittleEndian, uint16(1))      // one entry
	_ = bin.Write(&tiff, bin.LittleEndian, uint16(0x010f)) // Make
	_ = bin.Write(&tiff, bin.LittleEndian, uint16(2))      // ASCII
	_ = bin.Write(&tiff, bin.LittleEndian, uint32(9))
	_ = bin.Write(&tiff, bin.LittleEndian, uint32(26)) // value offset
	_ = bin.Write(&tiff, bin.LittleEndian, uint32(0))  // no next IFD
	tiff.WriteString("StoryCam\x00")
	app1 := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(enc.Bytes()[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1})
	_ = bin.Write(&out, bin.BigEndian, uint16(len(app1)+2))
	out.Write(app1)
	out.Write(enc.Bytes()[2:])
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// inviteStaff adds m through Users → Invite a user and keeps the link of
// the invitation emailed to them.
func inviteStaff(p *Page, mail *smtptest.Server, m *staffMember) {
	p.t.Helper()
	p.Open("/admin/users/new")
	if h := p.Heading(); h != "Invite a user" {
		p.t.Fatalf("invite heading %q", h)
	}
	p.Type("#name", m.name)
	p.Type("#email", m.email)
	p.Choose("#role", m.label)
	p.Click(`form[action="/admin/users"] button[type=submit]`)
	p.WantPath("/admin/users")
	if f, want := p.Text(".flash"), "An invitation was emailed to "+m.email+". "+m.name+" will join as "+m.label+"."; f != want {
		p.t.Errorf("flash after inviting %s: %q, want %q", m.name, f, want)
	}
	msg := mail.Last(p.t)
	link := invitationRe.FindStringSubmatch(msg.Text)
	if !strings.Contains(msg.To, m.email) || link == nil {
		p.t.Fatalf("invitation email to %q: %q", msg.To, msg.Text)
	}
	m.invitation = link[1]
}

// staffPage opens m's invitation in a fresh browser context and chooses a
// password, which signs them in.
func staffPage(b *Browser, m *staffMember) *Page {
	b.t.Helper()
	p := b.NewPage(m.role)
	p.Open(m.invitation)
	p.Type("#password", "new "+m.role+" passphrase 2024")
	p.Type("#confirm", "new "+m.role+" passphrase 2024")
	p.Click(`main form button[type=submit]`)
	p.WantPath("/account/2fa")
	p.Open("/")
	if h := p.Heading(); h != "Welcome, "+m.name {
		b.t.Fatalf("%s dashboard heading %q", m.role, h)
	}
	return p
}

// check ticks the checkbox or radio matched by css unless it is ticked.
func (p *Page) check(css string) {
	p.t.Helper()
	if !Eval[bool](p, `document.querySelector(`+jsString(css)+`).checked`) {
		p.Do(chromedp.Click(chromedp.CSS(css)))
	}
	if !Eval[bool](p, `document.querySelector(`+jsString(css)+`).checked`) {
		p.t.Fatalf("%s: %s is not ticked after clicking it", p.name, css)
	}
}

// stageBadge is the stage shown on a story page.
func stageBadge(p *Page) string {
	p.t.Helper()
	return p.Text(`main .badge[class*="stage-"], main p .badge`)
}

// The patient's two photos: the garden photo she consents to is blue, the
// X-ray she declines is red, so the bytes that leave show which one went.
var (
	gardenTint = color.RGBA{80, 120, 170, 255}
	xrayTint   = color.RGBA{190, 60, 40, 255}
)

// isXray reports whether the JPEG img is the declined (red) photo.
func isXray(t *testing.T, img []byte) bool {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("an image that left Storykeep is not a JPEG: %v", err)
	}
	var r, b uint64
	bd := m.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 8 {
		for x := bd.Min.X; x < bd.Max.X; x += 8 {
			pr, _, pb, _ := m.At(x, y).RGBA()
			r, b = r+uint64(pr), b+uint64(pb)
		}
	}
	return r > b
}

// uEscapeRe is a JSON or JavaScript \uXXXX escape.
var uEscapeRe = regexp.MustCompile(`\\u[0-9a-fA-F]{4}`)

// withheldIn lists what s carries that the patient withheld: her surname
// (in any case, with or without accents, as entities or \u escapes) or the
// declined X-ray's description or file name.
func withheldIn(s string) []string {
	s = uEscapeRe.ReplaceAllStringFunc(html.UnescapeString(s), func(m string) string {
		r, _ := strconv.ParseUint(m[2:], 16, 32)
		return string(rune(r))
	})
	var f strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			f.WriteRune(unicode.ToLower(r))
		}
	}
	var found []string
	for _, w := range []string{"lopez", "radiograf", "xray"} {
		if strings.Contains(f.String(), w) {
			found = append(found, w)
		}
	}
	return found
}

// connectChannel saves channel's account under Channels, enabled.
func connectChannel(p *Page, channel, method, url, handle, secret string) {
	p.t.Helper()
	p.Open("/admin/channels")
	p.Do(chromedp.SetValue(chromedp.CSS("#method-"+channel), method))
	p.Type("#url-"+channel, url)
	if handle != "" {
		p.Type("#handle-"+channel, handle)
	}
	p.Type("#secret-"+channel, secret)
	p.check(`#channel-` + channel + ` input[name=enabled]`)
	p.Click(`#channel-` + channel + ` button[type=submit]`)
	p.WantPath("/admin/channels")
	if v := Eval[string](p, `document.querySelector("#url-`+channel+`").value`); v != url {
		p.t.Fatalf("%s account URL after saving: %q, want %q (errors %v)", channel, v, url, p.Texts(".error"))
	}
	if !Eval[bool](p, `document.querySelector("#channel-`+channel+` input[name=enabled]").checked`) {
		p.t.Fatalf("%s account not enabled after saving", channel)
	}
}

// uploadPhoto uploads the file at path through the media page's file input
// and waits for upload.js to reload the page with it as the n-th item; it
// returns the new item's media ID.
func uploadPhoto(p *Page, storyPath, path string, n int) string {
	p.t.Helper()
	p.Open(storyPath + "/media")
	p.Do(chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{path}))
	p.Do(chromedp.Click(chromedp.CSS(`form[data-upload] button[type=submit]`)))
	if got := pollJS(p, 20*time.Second, `(() => {
		if (document.querySelectorAll("article.media-item").length >= `+strconv.Itoa(n)+`) return "ok";
		const box = document.querySelector("[data-upload-progress]");
		return box && /error|failed/.test(box.innerHTML) ? box.innerText : "";
	})()`); got != "ok" {
		p.t.Fatalf("uploading %s: %q", filepath.Base(path), got)
	}
	if c := len(p.Texts("article.media-item")); c != n {
		p.t.Fatalf("%d media items after uploading %s, want %d", c, filepath.Base(path), n)
	}
	name := filepath.Base(path)
	id := Eval[string](p, `Array.from(document.querySelectorAll("article.media-item")).find(a => a.querySelector("h2").innerText.trim() === `+jsString(name)+`)?.id ?? ""`)
	if !strings.HasPrefix(id, "media-") {
		p.t.Fatalf("no media item named %s after uploading it: %v", name, p.Texts("article.media-item h2"))
	}
	return strings.TrimPrefix(id, "media-")
}

// describePhoto saves the alt text of media item id on the media page.
func describePhoto(p *Page, storyPath, id, alt string) {
	p.t.Helper()
	item := "#media-" + id
	p.Type(item+` textarea[name=alt]`, alt)
	if code := p.Submit(chromedp.Click(chromedp.CSS(item + ` form[action$="/describe"] button[type=submit]`))); code != http.StatusOK || p.Path() != storyPath+"/media" {
		p.t.Fatalf("saving alt text: status %d on %s, want the media page again", code, p.Path())
	}
	if f := p.Text(".flash"); f != "Description saved." {
		p.t.Errorf("flash after saving alt text: %q", f)
	}
	if got := Eval[string](p, `document.querySelector("`+item+` textarea[name=alt]").value`); got != alt {
		p.t.Fatalf("alt text after saving: %q", got)
	}
	if e := p.Texts(item + ` .error`); len(e) != 0 {
		p.t.Errorf("media item still shows %q after alt text", e)
	}
}

// journeyChannels are the channels the story targets and the patient allows.
var journeyChannels = []string{"website", "mastodon", "bluesky", "x"}

// patientChooses ticks every channel, the photo keep and not the photo
// decline, first name only, and an expiry date on the consent form.
func patientChooses(p *Page, keep, decline string) {
	p.t.Helper()
	for _, ch := range journeyChannels {
		p.check("#ch-" + ch)
	}
	p.check("#m-" + keep)
	if Eval[bool](p, `document.querySelector("#m-`+decline+`").checked`) {
		p.Do(chromedp.Click(chromedp.CSS("#m-" + decline)))
	}
	if Eval[bool](p, `document.querySelector("#m-`+decline+`").checked`) {
		p.t.Fatalf("%s: the declined photo is still ticked", p.name)
	}
	p.check("#nu-first_name")
	if Eval[string](p, `document.querySelector("#expires_on").value`) == "" {
		p.Do(chromedp.SetValue(chromedp.CSS("#expires_on"), time.Now().AddDate(1, 0, 0).Format("2006-01-02")))
	}
}

// TestPatientJourney is the browser journey of the whole spine (issue 7):
// staff set-up, a story with two photos and a PHI finding, the patient's
// consent on a phone with a drawn signature (first name only, one photo
// declined), legal review, publishing to the website, Mastodon, Bluesky and
// X through a webhook, and the patient's revocation taking it all down.
// What reaches the networks' fakes and the public page carries neither the
// surname nor the declined photo (issue 18).
func TestPatientJourney(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t, smtptest.Options{})
	masto := exporttest.NewMastodon(t)
	pds := exporttest.NewPDS(t)
	hook := exporttest.NewWebhookReceiver(t, "journey webhook secret", http.StatusOK)
	srv := StartServer(t,
		"STORYKEEP_MAIL_MODE=smtp",
		"STORYKEEP_OUTBOUND_ALLOW_HOSTS=127.0.0.1",
		"STORYKEEP_SMTP_HOST="+mail.Host,
		"STORYKEEP_SMTP_PORT="+strconv.Itoa(mail.Port),
		"STORYKEEP_SMTP_TLS=none",
		"STORYKEEP_SMTP_FROM=stories@hospital.test",
		"STORYKEEP_WORKERS=2",
	)
	b := NewBrowser(t, srv.URL)
	b.within(JourneyTimeout)
	statuses := func() int {
		masto.Mu.Lock()
		defer masto.Mu.Unlock()
		return len(masto.Statuses)
	}
	records := func() int {
		pds.Mu.Lock()
		defer pds.Mu.Unlock()
		return len(pds.Records)
	}
	hookEvents := func(event string) []map[string]any {
		hook.Mu.Lock()
		defer hook.Mu.Unlock()
		var out []map[string]any
		for _, m := range hook.Got {
			if m["event"] == event {
				out = append(out, m)
			}
		}
		return out
	}

	// 1. The admin signs in with the first-run password, changes it, invites
	// the team and connects Mastodon, Bluesky and X (through a webhook).
	admin := b.NewPage("admin")
	signIn(admin, srv.AdminEmail, srv.AdminPassword)
	changePassword(admin, srv.AdminPassword, "lantern orchard velvet 47")
	teller := &staffMember{name: "Sam Storyteller", email: "sam.storyteller@hospital.example", role: "storyteller", label: "Storyteller"}
	reviewer := &staffMember{name: "Rita Reviewer", email: "rita.reviewer@hospital.example", role: "reviewer", label: "Legal reviewer"}
	publisher := &staffMember{name: "Paul Publisher", email: "paul.publisher@hospital.example", role: "publisher", label: "Publisher"}
	for _, m := range []*staffMember{teller, reviewer, publisher} {
		inviteStaff(admin, mail, m)
	}
	connectChannel(admin, "mastodon", "mastodon", masto.URL, "", "tok")
	connectChannel(admin, "bluesky", "bluesky", pds.URL, "hospital.bsky.social", pds.Password)
	connectChannel(admin, "x", "webhook", hook.URL, "", hook.Secret)

	// 2. The storyteller records the patient, drafts the story, adds two
	// photos and asks for consent. The Bluesky and X copy use her full name.
	st := staffPage(b, teller)
	st.Open("/patients/new")
	st.Type("#full_name", "María López")
	st.Type("#preferred_name", "María")
	st.Type("#dob", "1984-07-21")
	st.Type("#email", "maria@example.org")
	st.Do(chromedp.SetValue(chromedp.CSS("#language"), "es"))
	st.Click(`main form button[type=submit]`)
	patientID := strings.TrimPrefix(st.Path(), "/patients/")
	if !strings.HasPrefix(st.Path(), "/patients/") || strings.Contains(patientID, "/") || patientID == "new" {
		t.Fatalf("after adding the patient: on %s (h1 %q)", st.Path(), st.Heading())
	}
	if h := st.Heading(); !strings.Contains(h, "María López") {
		t.Errorf("patient page heading %q", h)
	}

	const title = "María vuelve a caminar"
	// A new story starts by finding the patient by a family name's first letters.
	st.Open("/stories/new")
	st.Type("#q", "lóp")
	st.Click(`main form[role=search] button[type=submit]`)
	st.Click(`main tbody a[href="/stories/new?patient=` + patientID + `"]`)
	if got := st.Text("#patient"); !strings.Contains(got, "María López") {
		t.Fatalf("after choosing the patient: on %s, patient field %q", st.Path(), got)
	}
	st.Type("#title", title)
	st.Type("#summary", "After surgery, María walks in her garden again.")
	st.Type("#body", "María walked again six weeks after her hip surgery. Her neighbour says to call him on 555-201-7788 to hear more.")
	for _, ch := range journeyChannels {
		st.check(`input[name=channels][value=` + ch + `]`)
	}
	st.Type("#copy-mastodon", "María vuelve a caminar tras su operación de cadera.")
	st.Type("#copy-bluesky", "María López vuelve a caminar por su jardín.")
	st.Type("#copy-x", "Seis semanas después de su operación, María López camina sin bastón.")
	st.Click(`form.story-form button[type=submit]`)
	storyPath := st.Path()
	if !regexp.MustCompile(`^/stories/[^/]+$`).MatchString(storyPath) {
		t.Fatalf("after creating the story: on %s (h1 %q, errors %v)", storyPath, st.Heading(), st.Texts(".error"))
	}
	if h := st.Heading(); !strings.Contains(h, title) {
		t.Errorf("story page heading %q", h)
	}
	marks := st.Texts("mark.phi")
	phone := false
	for _, m := range marks {
		phone = phone || strings.Contains(m, "555-201-7788")
	}
	if !phone {
		t.Fatalf("story page does not highlight the phone number as PHI; marks %q", marks)
	}
	st.CheckA11y()

	// Two photos, with EXIF, uploaded through the file input (upload.js
	// sends each, then reloads the page); then alt text for each. The
	// patient will consent to the garden photo and decline the X-ray.
	dir := t.TempDir()
	garden := uploadPhoto(st, storyPath, photoJPEG(t, dir, "maria-garden.jpg", gardenTint), 1)
	xray := uploadPhoto(st, storyPath, photoJPEG(t, dir, "maria-xray.jpg", xrayTint), 2)
	const alt = "María smiling in her garden, walking without a cane"
	const xrayAlt = "Radiografía de la prótesis de cadera de María"
	describePhoto(st, storyPath, garden, alt)
	describePhoto(st, storyPath, xray, xrayAlt)
	st.CheckA11y()

	st.Open(storyPath)
	st.Screenshot("story")

	sendConsentRequest(t, st, storyPath, garden, xray)
	shown := Eval[string](st, `document.querySelector("#consent-link").value`)
	invite := waitMail(t, mail, "maria@example.org", 20*time.Second, func(m *smtptest.Parsed) bool {
		return strings.Contains(m.Text, "/c/")
	})
	link := mailLink(t, invite, "c")
	if link.String() != shown {
		t.Errorf("emailed link %s differs from the link shown %s", link, shown)
	}
	if !strings.Contains(invite.Subject, "permiso") {
		t.Errorf("invitation subject %q is not in Spanish", invite.Subject)
	}

	// 3. The patient, on a phone, verifies, reads, chooses, draws a
	// signature and signs.
	pt := b.NewPhonePage("patient")
	pt.Open(link.Path)
	if h := pt.Heading(); h != "Primero, confirme que es usted" {
		t.Fatalf("verify page heading %q", h)
	}
	if lang := Eval[string](pt, `document.documentElement.lang`); lang != "es" {
		t.Errorf("verify page lang %q", lang)
	}
	pt.CheckA11y()
	pt.Type("#dob-day", "21")
	pt.Type("#dob-month", "7")
	pt.Type("#dob-year", "1984")
	pt.Click(`form[action$="/verify"] button[type=submit]`)
	pt.WantPath(link.Path)
	if h := pt.Heading(); h == "Primero, confirme que es usted" {
		t.Fatalf("still on the verify page after the date of birth: %v", pt.Texts(".error-summary"))
	}
	if sw := Eval[int](pt, `document.documentElement.scrollWidth`); sw > PhoneWidth {
		t.Errorf("consent page is %dpx wide on a %dpx phone", sw, PhoneWidth)
	}
	previews := strings.Join(pt.Texts("article.post"), "\n")
	for _, want := range []string{title, "María walked again", "María vuelve a caminar tras su operación de cadera."} {
		if !strings.Contains(previews, want) {
			t.Errorf("consent previews lack %q:\n%s", want, previews)
		}
	}
	if !Eval[bool](pt, `Array.from(document.querySelectorAll(".patient-media img")).some(i => i.alt === `+jsString(alt)+`)`) {
		t.Error("consent page does not show the photo with its alt text")
	}
	if n := Eval[int](pt, `document.querySelectorAll("#choices-form input:checked").length`); n != 0 {
		t.Errorf("%d choices pre-ticked on the consent form", n)
	}
	pt.CheckA11y()

	keyboardWalk(t, pt)

	// Page weight of the review page on a cold cache, with the verified session.
	weight, err := pt.Weight(link.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("consent review page weight: %d bytes (%.1f KB) transferred, cold cache, phone session", weight, float64(weight)/1024)
	if weight <= 0 || weight > 100*1024 {
		t.Errorf("consent review page weight %d bytes, want between 1 and %d", weight, 100*1024)
	}

	patientChooses(pt, garden, xray)
	// The final authorization, with the choices filled in, is what is signed.
	pt.Click(`#choices-form button[type=submit]`)
	if h := pt.Heading(); h != "Lea y firme su autorización" {
		t.Fatalf("after choosing: h1 %q, errors %v", h, pt.Texts(".error-summary li, .field-error"))
	}
	if final := pt.Text(".authorization"); !strings.Contains(final, "solo su nombre de pila") || !strings.Contains(final, "Mastodon") || !strings.Contains(final, "Bluesky") || strings.Contains(final, "el día que usted elija") || strings.Contains(final, xrayAlt) {
		t.Errorf("the final authorization does not show the choices:\n%s", final)
	}
	pt.CheckA11y()
	keyboardWalk(t, pt)
	pt.check("#esign")
	pt.Type("#typed_name", "María López")

	// Draw a signature: press, a zig-zag, release.
	if Eval[bool](pt, `document.querySelector("[data-signature-pad]").hidden`) {
		t.Fatal("the signature pad is hidden: signature.js did not run")
	}
	pt.Do(chromedp.ScrollIntoView(chromedp.CSS("[data-signature-pad] canvas")))
	type rect struct{ X, Y, W, H float64 }
	r := Eval[rect](pt, `(() => { const r = document.querySelector("[data-signature-pad] canvas").getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height} })()`)
	if r.W < 100 || r.H < 50 {
		t.Fatalf("signature canvas is %vx%v", r.W, r.H)
	}
	var strokes []chromedp.Action[chromedp.Void]
	x0, y0 := r.X+r.W*0.1, r.Y+r.H*0.6
	strokes = append(strokes, chromedp.MouseEvent(chromedp.MouseMoved, x0, y0),
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	for i := 1; i <= 24; i++ {
		x := x0 + r.W*0.8*float64(i)/24
		y := r.Y + r.H*(0.35+0.3*float64(i%2))
		strokes = append(strokes, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft, func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }))
	}
	strokes = append(strokes, chromedp.MouseEvent(chromedp.MouseReleased, x0+r.W*0.8, y0, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	pt.Do(strokes...)
	// signature.js writes the PNG on submit; a synthetic submit event runs
	// its listener without submitting the form.
	sig := Eval[string](pt, `(() => { document.getElementById("sign-form").dispatchEvent(new Event("submit", {cancelable: true})); return document.getElementById("signature_data").value })()`)
	if !strings.HasPrefix(sig, "data:image/png;base64,") || len(sig) < 200 {
		t.Fatalf("drawn signature: hidden field holds %.60q (%d bytes), want a PNG data URL", sig, len(sig))
	}
	t.Logf("drawn signature: PNG data URL of %d bytes", len(sig))
	pt.Do(chromedp.Evaluate[chromedp.Void](`document.getElementById("signature").scrollIntoView({block: "end"})`))
	pt.ScreenshotViewport("consent-phone")

	pt.Click(`#sign-form button[type=submit]`)
	if h := pt.Heading(); h != "Gracias" {
		t.Fatalf("after signing: h1 %q, errors %v", h, pt.Texts(".error-summary li, .field-error"))
	}
	if body := pt.Text("main"); !strings.Contains(body, "Su permiso quedó registrado") {
		t.Errorf("signed page says %q", body)
	}
	pt.CheckA11y()
	cert := waitMail(t, mail, "maria@example.org", 20*time.Second, func(m *smtptest.Parsed) bool {
		return len(m.Attachments) > 0
	})
	if len(cert.Attachments) != 1 || cert.Attachments[0].ContentType != "application/pdf" || !bytes.HasPrefix(cert.Attachments[0].Data, []byte("%PDF")) {
		t.Fatalf("certificate mail %q: attachments %d", cert.Subject, len(cert.Attachments))
	}
	firstRevoke := mailLink(t, cert, "r")

	// 3b. The storyteller changes a word of the signed story: the consent is
	// superseded and the story is back in drafting. A new request goes out;
	// the patient signs again, this time with the typed signature.
	st.Open(storyPath + "/edit")
	text := Eval[string](st, `document.querySelector("#body").value`)
	edited := strings.Replace(text, "walked again", "walked again proudly", 1)
	if edited == text {
		t.Fatalf("fixture: the body %q has no \"walked again\" to edit", text)
	}
	st.Do(chromedp.SetValue(chromedp.CSS("#body"), edited))
	st.Click(`form.story-form button[type=submit]`)
	if s := stageBadge(st); s != "Drafting" {
		t.Errorf("stage after editing the consented story %q, want Drafting", s)
	}
	if tl := st.Text("main"); !strings.Contains(tl, "consent no longer matches and a new one is needed") {
		t.Errorf("the story page does not say the consent no longer matches")
	}
	sendConsentRequest(t, st, storyPath, garden, xray)
	again := waitMail(t, mail, "maria@example.org", 20*time.Second, func(m *smtptest.Parsed) bool {
		return strings.Contains(m.Text, "/c/") && !strings.Contains(m.Text, link.Path)
	})
	link2 := mailLink(t, again, "c")
	if old := Eval[string](pt, `fetch(`+jsString(link.Path)+`).then(r => r.text())`); strings.Contains(old, `id="choices-form"`) {
		t.Error("the first, used consent link still offers the signing form")
	}
	p2 := b.NewPhonePage("patient, second request")
	p2.Open(link2.Path)
	p2.Type("#dob-day", "21")
	p2.Type("#dob-month", "7")
	p2.Type("#dob-year", "1984")
	p2.Click(`form[action$="/verify"] button[type=submit]`)
	if previews := strings.Join(p2.Texts("article.post"), "\n"); !strings.Contains(previews, "walked again proudly") {
		t.Errorf("the new request does not show the edited text:\n%s", previews)
	}
	patientChooses(p2, garden, xray)
	p2.Click(`#choices-form button[type=submit]`)
	p2.check("#esign")
	p2.Type("#typed_name", "María López")
	p2.Type("#typed_signature", "María López")
	p2.Click(`#sign-form button[type=submit]`)
	if h := p2.Heading(); h != "Gracias" {
		t.Fatalf("after signing the second request: h1 %q, errors %v", h, p2.Texts(".error-summary li, .field-error"))
	}
	cert2 := waitMail(t, mail, "maria@example.org", 20*time.Second, func(m *smtptest.Parsed) bool {
		return len(m.Attachments) > 0 && !strings.Contains(m.Text, firstRevoke.Path)
	})
	revoke := mailLink(t, cert2, "r")

	// 4. Legal review: the author sends it and may not approve; the reviewer
	// acknowledges the findings and approves.
	st.Open(storyPath)
	if s := stageBadge(st); s != "Consented" {
		t.Errorf("stage after signing %q, want Consented", s)
	}
	st.Click(`button[name=to][value=in_review]`)
	if n := len(st.Texts(`button[name=to][value=approved]`)); n != 0 {
		t.Error("the author sees an approve button on their own story")
	}
	refused := Eval[int](st, `(() => {
		const f = document.querySelector('form[action$="/transition"]'), d = new FormData(f);
		d.set("to", "approved");
		return fetch(f.action, {method: "POST", body: new URLSearchParams(d), redirect: "manual"}).then(r => r.status);
	})()`)
	if refused != http.StatusForbidden {
		t.Errorf("the author's own approval answered %d, want 403", refused)
	}

	rv := staffPage(b, reviewer)
	rv.Open(storyPath + "/review")
	if h := rv.Heading(); h != "Review: "+title {
		t.Fatalf("review heading %q", h)
	}
	if !strings.Contains(strings.Join(rv.Texts("mark.phi"), " "), "555-201-7788") {
		t.Error("review screen does not highlight the phone number")
	}
	rv.CheckA11y()
	rv.Screenshot("review")
	for range 10 {
		form := Eval[int](rv, `Array.from(document.querySelectorAll('form[action$="/phi-ack"]')).findIndex(f => f.querySelector("input[name=finding]"))`)
		if form < 0 {
			break
		}
		rv.Do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('form[action$="/phi-ack"]')[%d].querySelectorAll("input[name=finding]").forEach(c => c.click())`, form)))
		rv.Submit(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('form[action$="/phi-ack"]')[%d].querySelector("button[type=submit]").click()`, form)))
	}
	if n := len(rv.Texts("input[name=finding]")); n != 0 {
		t.Fatalf("%d findings left unacknowledged", n)
	}
	if n := len(rv.Texts(".badge")); n < 1 {
		t.Error("no finding shows as Acknowledged")
	}
	// The review screen shows what the patient allowed and each post; the
	// reviewer approves the consented channels from it.
	rv.Open(storyPath + "/review")
	if got := rv.Text("#consent-channels"); !strings.Contains(got, "Website") || !strings.Contains(got, "Mastodon") || !strings.Contains(got, "Bluesky") {
		t.Errorf("consent scope on the review screen %q", got)
	}
	if post := rv.Text("#review-preview-mastodon p.pre"); !strings.Contains(post, "María") {
		t.Errorf("Mastodon preview on the review screen %q", post)
	}
	if n := len(rv.Texts(`#approve-form input[name=channel]:checked`)); n != len(journeyChannels) {
		t.Errorf("%d channels ticked for approval, want the %d consented", n, len(journeyChannels))
	}
	rv.Click(`#approve-form button[type=submit]`)
	if s := stageBadge(rv); s != "Approved" {
		t.Fatalf("stage after approval %q (flash %v, errors %v)", s, rv.Texts(".flash"), rv.Texts(".alert, .error"))
	}

	// 5. The publisher posts to Mastodon, Bluesky and X now; the story goes
	// live. Each post names María only and carries the garden photo only.
	pb := staffPage(b, publisher)
	pb.Open(storyPath + "/publish")
	for _, ch := range journeyChannels[1:] {
		if r := pb.Texts("#preview-" + ch + " .refusal"); len(r) != 0 {
			t.Fatalf("%s post refused: %v", ch, r)
		}
		if post := pb.Text("#preview-" + ch + " p.pre"); !strings.Contains(post, "María") || withheldIn(post) != nil {
			t.Errorf("%s preview %q", ch, post)
		}
		pb.check(`input[name=channel][value=` + ch + `]`)
	}
	pb.check(`input[name=when][value=now]`)
	pb.Click(`form[action$="/publish"] button[type=submit]`)
	if f := pb.Text(".flash"); !strings.HasPrefix(f, "Posting now to ") || len(strings.Split(f, ", ")) != len(journeyChannels)-1 {
		t.Errorf("flash after posting %q", f)
	}
	waitFor(t, 20*time.Second, "the Mastodon post", func() bool { return statuses() == 1 })
	waitFor(t, 20*time.Second, "the Bluesky post", func() bool { return records() == 1 })
	waitFor(t, 20*time.Second, "the webhook's X post", func() bool { return len(hookEvents("publish")) == 1 })
	waitFor(t, 20*time.Second, "the deliveries to show as sent", func() bool {
		pb.Open(storyPath + "/publish")
		for _, ch := range journeyChannels[1:] {
			if st := pb.Texts(".delivery-" + ch + " .state"); len(st) == 0 || st[0] != "sent" {
				return false
			}
		}
		return true
	})
	// What each network received: the text, the photos' descriptions and
	// the photos' bytes.
	masto.Mu.Lock()
	for _, s := range masto.Statuses {
		if !strings.Contains(s, "María") || withheldIn(s) != nil {
			t.Errorf("Mastodon status %q carries %v", s, withheldIn(s))
		}
	}
	if len(masto.Media) != 1 || len(masto.LastMedia) != 1 {
		t.Errorf("Mastodon got %d photos (%d on the status), want the consented one", len(masto.Media), len(masto.LastMedia))
	}
	for id, desc := range masto.Media {
		if desc != alt || isXray(t, masto.Files[id]) {
			t.Errorf("Mastodon photo %s (%q) is not the consented garden photo", id, desc)
		}
	}
	masto.Mu.Unlock()
	_, post := pds.Only()
	if text, _ := post["text"].(string); !strings.Contains(text, "María") || withheldIn(text) != nil {
		t.Errorf("Bluesky post text %q", text)
	}
	embedded, _ := json.Marshal(post["embed"])
	if images := blueskyAlts(post); len(images) != 1 || images[0] != alt || withheldIn(string(embedded)) != nil {
		t.Errorf("Bluesky post images %v (embed %s), want only the garden photo", images, embedded)
	}
	pds.Mu.Lock()
	if len(pds.Uploaded) != 1 || isXray(t, pds.Uploaded[0]) {
		t.Errorf("Bluesky got %d blobs, want only the garden photo", len(pds.Uploaded))
	}
	pds.Mu.Unlock()
	sent := hookEvents("publish")[0]
	payload, _ := json.Marshal(sent)
	if text, _ := sent["text"].(string); !strings.Contains(text, "María") || withheldIn(string(payload)) != nil {
		t.Errorf("webhook payload carries %v: %s", withheldIn(string(payload)), payload)
	}
	media, _ := sent["media"].([]any)
	if len(media) != 1 {
		t.Fatalf("webhook payload has %d photos, want the consented one: %s", len(media), payload)
	}
	m0, _ := media[0].(map[string]any)
	if a, _ := m0["alt_text"].(string); a != alt {
		t.Errorf("webhook photo alt %q, want %q", a, alt)
	}
	if u, _ := m0["url"].(string); isXray(t, fetchImage(t, u)) {
		t.Errorf("the webhook's photo link %s serves the declined X-ray", u)
	}
	if s := pb.Text("main p .badge"); s != "Published" {
		t.Errorf("stage on the publication panel %q, want Published", s)
	}
	pb.CheckA11y()
	pb.Screenshot("publish")

	pub := b.NewPage("public")
	pub.Open("/p")
	slugPath := Eval[string](pub, `Array.from(document.querySelectorAll("ol.stories h2 a")).find(a => a.innerText.trim() === `+jsString(title)+`)?.getAttribute("href") ?? ""`)
	if !strings.HasPrefix(slugPath, "/p/") {
		t.Fatalf("the public index does not list %q: %v", title, pub.Texts("ol.stories h2"))
	}
	pub.Open(slugPath)
	if h := pub.Heading(); h != title {
		t.Errorf("public page heading %q", h)
	}
	page := pub.Text("main")
	if !strings.Contains(page, "María") {
		t.Errorf("public page does not name María:\n%s", page)
	}
	if w := withheldIn(Eval[string](pub, `document.documentElement.outerHTML`)); w != nil {
		t.Errorf("public page (tags and data included) carries %v: first name only and the garden photo were consented", w)
	}
	if n := len(pub.Texts("article.story img")); n != 1 {
		t.Errorf("public page shows %d photos, want the consented one", n)
	}
	if _, err := chromedp.Run(pub.Ctx(), chromedp.Poll[bool](`(() => { const i = document.querySelector("article.story img"); return !!i && i.complete && i.naturalWidth > 0 })()`)); err != nil {
		t.Fatalf("the public page's photo did not load: %v", err)
	}
	if a := Eval[string](pub, `document.querySelector("article.story img").alt`); a != alt {
		t.Errorf("public photo alt %q", a)
	}
	pub.CheckA11y()
	pub.Screenshot("public")
	src := Eval[string](pub, `document.querySelector("article.story img").currentSrc || document.querySelector("article.story img").src`)
	img := fetchImage(t, src)
	if isXray(t, img) {
		t.Errorf("public photo %s is the declined X-ray", src)
	}
	if bytes.Contains(img, []byte("Exif")) || bytes.Contains(img, []byte("StoryCam")) {
		t.Errorf("public photo %s still carries EXIF", src)
	}
	t.Logf("public photo %s: %d bytes JPEG, no EXIF", src, len(img))

	// 6. The patient revokes from the certificate email; everything comes down.
	// Revoking asks for the same identity check as signing.
	pt.Open(revoke.Path)
	pt.Type("#dob-day", "21")
	pt.Type("#dob-month", "7")
	pt.Type("#dob-year", "1984")
	pt.Click(`form[action$="/verify"] button[type=submit]`)
	if h := pt.Heading(); h != "Cancelar su permiso" {
		t.Fatalf("revocation page heading %q", h)
	}
	pt.CheckA11y()
	pt.Type("#reason", "Cambié de opinión")
	pt.Click(`form[action^="/r/"] button[type=submit]`)
	if h := pt.Heading(); h != "Su permiso está cancelado" {
		t.Fatalf("after revoking: h1 %q", h)
	}
	gone, err := chromedp.Run(pub.Ctx(), chromedp.NavigateResponse(srv.URL+slugPath))
	if err != nil {
		t.Fatal(err)
	}
	if gone.Status != http.StatusGone {
		t.Errorf("public page after revocation: status %d, want 410", gone.Status)
	}
	if h := pub.Heading(); h != "This story is no longer available" {
		t.Errorf("public page after revocation says %q", h)
	}
	waitFor(t, 20*time.Second, "the Mastodon post to be deleted", func() bool { return statuses() == 0 })
	waitFor(t, 20*time.Second, "the Bluesky post to be deleted", func() bool { return records() == 0 })
	waitFor(t, 20*time.Second, "the webhook's unpublish event", func() bool { return len(hookEvents("unpublish")) == 1 })
}

// blueskyAlts is the alt text of each image embedded in a Bluesky post.
func blueskyAlts(post map[string]any) []string {
	embed, _ := post["embed"].(map[string]any)
	images, _ := embed["images"].([]any)
	var alts []string
	for _, i := range images {
		m, _ := i.(map[string]any)
		a, _ := m["alt"].(string)
		alts = append(alts, a)
	}
	return alts
}

// fetchImage downloads the JPEG at u, failing the test unless it is one.
func fetchImage(t *testing.T, u string) []byte {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	img, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("image %s: %d %v", u, res.StatusCode, err)
	}
	if !bytes.HasPrefix(img, []byte{0xFF, 0xD8, 0xFF}) || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/jpeg") {
		t.Fatalf("image %s is %s, starts % x: want a JPEG", u, res.Header.Get("Content-Type"), img[:min(4, len(img))])
	}
	return img
}

// focusableJS lists, in document order, what Tab should reach on the page:
// visible, enabled links, buttons and form fields, a radio group once (arrow
// keys move within it). The signature canvas is not one; the typed signature
// is its keyboard alternative.
const focusableJS = `(() => { const seen = new Set(); return Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])'))
	.filter(e => !e.disabled && e.offsetParent !== null && e.tabIndex >= 0)
	.filter(e => { if (e.type !== "radio") { return true; } if (seen.has(e.name)) { return false; } seen.add(e.name); return true; })
	.map(e => e.id || (e.className === "skip" ? "skip" : e.tagName.toLowerCase() + ":" + (e.innerText || e.value || "").trim())); })()`

// keyboardWalk tabs through the whole consent page from the top: every
// control is reached in document order, each focused control shows a visible
// focus indicator and is at least partly on screen (Chromium scrolls a
// textarea only as far as its caret), and the typed signature (the
// drawing's keyboard alternative) is among them with a label.
func keyboardWalk(t *testing.T, p *Page) {
	t.Helper()
	want := Eval[[]string](p, focusableJS)
	if len(want) < 5 {
		t.Fatalf("keyboard walk: only %d focusable controls found: %v", len(want), want)
	}
	Eval[bool](p, `(() => { if (document.activeElement) { document.activeElement.blur(); } window.scrollTo(0, 0); return true })()`)
	var got []string
	for range 3 * len(want) {
		p.Do(chromedp.KeyEvent(kb.Tab))
		f := Eval[focusInfo](p, focusJS)
		key := f.ID
		if key == "" {
			key = f.key()
		}
		if f.Tag == "body" || (len(got) > 0 && got[0] == key && len(got) >= len(want)) {
			break // past the last control, back at the start
		}
		if len(got) > 0 && got[len(got)-1] == key {
			continue // a date field takes one Tab per part (day, month, year)
		}
		got = append(got, key)
		if !f.visible() {
			where := Eval[string](p, `(() => { const r = document.activeElement.getBoundingClientRect(); return JSON.stringify({top: r.top, bottom: r.bottom, left: r.left, right: r.right, vw: innerWidth, vh: innerHeight, sy: scrollY}) })()`)
			t.Errorf("keyboard walk: %s has no visible focus indicator or is off screen (outline %s %s, shadow %q, in view %v, box %s)", key, f.Outline, f.OutlineW, f.Shadow, f.InView, where)
		}
	}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("keyboard walk: Tab order\n got %v\nwant %v", got, want)
	}
	if !Eval[bool](p, `!!document.querySelector("#typed_signature")`) {
		// the choices step: the signature is on the final step
	} else if !slices.Contains(got, "typed_signature") {
		t.Error("keyboard walk: the typed signature field is not a Tab stop")
	} else if lbl := Eval[string](p, `Array.from(document.querySelector("#typed_signature").labels, l => l.innerText.trim()).join(" ")`); lbl == "" {
		t.Error("keyboard walk: the typed signature field has no label")
	}
	t.Logf("keyboard walk: %d controls in order, each with visible focus", len(got))
}

// sendConsentRequest asks the patient (in Spanish) for consent to the
// journey's channels, with the photos media and first name only, and checks
// the page that shows the link.
func sendConsentRequest(t *testing.T, st *Page, storyPath string, media ...string) {
	t.Helper()
	st.Open(storyPath + "/consent")
	st.check(`input[name=signer][value=patient]`)
	for _, ch := range journeyChannels {
		st.check(`#channels input[value=` + ch + `]`)
	}
	for _, id := range media {
		st.check(`#media input[name=media][value="` + id + `"]`)
	}
	st.check(`input[name=name_usage][value=first_name]`)
	st.Do(chromedp.SetValue(chromedp.CSS("#language"), "es"))
	if Eval[string](st, `document.querySelector("#link_days").value`) == "" {
		st.Type("#link_days", "14")
	}
	st.Click(`form[action$="/consent"] button[type=submit]`)
	if h := st.Heading(); !strings.HasPrefix(h, "Consent link for") {
		t.Fatalf("after sending the consent request: h1 %q, errors %v", h, st.Texts(".error"))
	}
}
