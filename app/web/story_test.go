package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/models"
)

// addPatient adds a patient through the patients service.
func addPatient(env *apptest.Env, by, name string) string {
	env.T.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: by, Label: "test"})
	p, err := env.App.Patients.Create(ctx, by, patients.Input{FullName: name, PreferredName: strings.Fields(name)[0], Language: "en"})
	if err != nil {
		env.T.Fatal(err)
	}
	return p.ID
}

func storyForm(patient, owner, title string) url.Values {
	return url.Values{"title": {title}, "summary": {"Summary."}, "body": {"Maria walked again."}, "tags": {"surgery"},
		"channels": {"website", "x"}, "copy-x": {"Maria walks again https://example.org/a"}, "patient": {patient}, "owner": {owner}}
}

func createStory(t *testing.T, c *apptest.Client, form url.Values) string {
	t.Helper()
	res := c.Post("/stories", form).Expect(http.StatusSeeOther)
	return strings.TrimPrefix(res.Location(), "/stories/")
}

func TestStoryCreateBadInput(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	patient := addPatient(env, u.ID, "Maria Lopez")
	c.Get("/stories/new?patient=" + patient).Expect(http.StatusOK).Contains("0 of 280 characters")
	createStory(t, c, storyForm(patient, u.ID, "Maria walks again"))
	for name, tc := range map[string]struct {
		field, value, id, msg string
	}{
		"empty title":     {"title", "", "title", "Enter a title."},
		"oversize body":   {"body", strings.Repeat("a", 200*1024+1), "body", "the limit is 200 KB"},
		"invalid slug":    {"slug", "Bad Slug", "slug", "lower-case letters"},
		"duplicate slug":  {"slug", "maria-walks-again", "slug", "already uses the address maria-walks-again"},
		"unknown patient": {"patient", "no-such-patient", "patient", "Unknown patient"},
		"x copy too long": {"copy-x", strings.Repeat("x", 290), "copy-x", "X allows 280. Shorten it by 10."},
	} {
		t.Run(name, func(t *testing.T) {
			form := storyForm(patient, u.ID, "Other title")
			form.Set(tc.field, tc.value)
			res := c.Post("/stories", form).Expect(http.StatusUnprocessableEntity).Contains(tc.msg)
			el := res.Doc.Find("#" + tc.id)
			if tc.id == "patient" {
				// The patient is chosen on the chooser, not typed: the field
				// offers it again, with the error beside it.
				if el.Find(`a[href="/stories/choose-patient?for=new"]`).Length() != 1 || !strings.Contains(res.Doc.Find("#patient-error").Text(), tc.msg) ||
					res.Doc.Find(`input[name=patient]`).Length() != 0 {
					t.Fatal("an unknown patient must be dropped, with the chooser offered and the error shown")
				}
			} else if el.AttrOr("aria-invalid", "") != "true" || !strings.Contains(el.AttrOr("aria-describedby", ""), tc.id+"-error") {
				t.Fatalf("#%s must be marked invalid and point at its error", tc.id)
			}
			if res.Doc.Find("#summary").Text() != "Summary." {
				t.Fatal("submitted values must be kept")
			}
		})
	}
	var n int64
	env.App.DB.Model(&models.Story{}).Count(&n)
	if n != 1 {
		t.Fatalf("bad input must store nothing; %d stories", n)
	}
}

func TestStoryMarkdownIsSanitised(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	form := storyForm(addPatient(env, u.ID, "Maria Lopez"), u.ID, "Safe")
	form.Set("body", "Hello <script>alert('x')</script>\n\n[click](javascript:alert(1)) <a href=\"javascript:alert(2)\">raw</a> **bold**")
	id := createStory(t, c, form)
	res := c.Get("/stories/" + id).Expect(http.StatusOK)
	html, _ := res.Doc.Find(".prose").Html()
	if strings.Contains(html, "<script") || strings.Contains(strings.ToLower(html), "javascript:") || !strings.Contains(html, "<strong>bold</strong>") {
		t.Fatalf("unsafe or missing markup in rendered story: %s", html)
	}
	if res.Doc.Find("script:not([src])").Length() > 0 {
		t.Fatal("inline script on the story page")
	}
}

func TestStoryEditStaleOwnershipAndAutosave(t *testing.T) {
	env := apptest.New(t)
	owner, u := env.SignedIn(models.RoleStoryteller)
	other, _ := env.SignedIn(models.RoleStoryteller)
	admin, _ := env.SignedIn(models.RoleAdmin)
	id := createStory(t, owner, storyForm(addPatient(env, u.ID, "Maria Lopez"), u.ID, "Maria walks again"))

	other.Get("/stories/" + id + "/edit").Expect(http.StatusForbidden).Contains("only stories you own")
	form := storyForm("", u.ID, "Maria walks again")
	edit := owner.Get("/stories/" + id + "/edit").Expect(http.StatusOK)
	form.Set("patient", edit.Doc.Find("input[name=patient]").AttrOr("value", ""))
	form.Set("base_revision", edit.Doc.Find("input[name=base_revision]").AttrOr("value", ""))
	if form.Get("base_revision") != "1" {
		t.Fatalf("edit form must carry the revision: %q", form.Get("base_revision"))
	}
	// The admin saves first (revision 2).
	adminForm := url.Values{}
	for k, v := range form {
		adminForm[k] = v
	}
	adminForm.Set("body", "Admin's wording.")
	admin.Post("/stories/"+id, adminForm).Expect(http.StatusSeeOther)
	// The owner's save, based on revision 1, is refused; their text is kept.
	form.Set("body", "Owner's wording.")
	res := owner.Post("/stories/"+id, form).Expect(http.StatusConflict)
	res.Contains("This story changed while you were editing").Contains("Admin Person saved revision 2")
	if res.Doc.Find("#body").Text() != "Owner's wording." || res.Doc.Find("input[name=base_revision]").AttrOr("value", "") != "2" {
		t.Fatal("the user's text must be kept and the form rebased on the latest revision")
	}
	if st, _ := env.App.Stories.Get(t.Context(), id); st.Body != "Admin's wording." {
		t.Fatal("a stale save must change nothing")
	}
	// Autosave: JSON with the CSRF header, no revision made; offered on the edit form.
	req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/stories/"+id+"/draft", strings.NewReader(`{"base_revision":2,"title":"Maria walks again","body":"half-typed"}`))
	req.Header.Set("Content-Type", "application/json")
	owner.Do(req).Expect(http.StatusForbidden)
	req, _ = http.NewRequest(http.MethodPost, env.Server.URL+"/stories/"+id+"/draft", strings.NewReader(`{"base_revision":2,"title":"Maria walks again","body":"half-typed"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", owner.CSRF())
	if r := owner.Do(req).Expect(http.StatusOK); !strings.Contains(r.Body, "saved_at") {
		t.Fatalf("autosave answer: %s", r.Body)
	}
	owner.Get("/stories/" + id + "/edit").Expect(http.StatusOK).Contains("You have an autosaved draft")
	if body := owner.Get("/stories/" + id + "/edit?draft=1").Doc.Find("#body").Text(); body != "half-typed" {
		t.Fatalf("draft not restored: %q", body)
	}
	if st, _ := env.App.Stories.Get(t.Context(), id); st.Revision != 2 {
		t.Fatal("autosave must not create a revision")
	}
	// History, diff (escaped) and restore.
	owner.Get("/stories/" + id + "/history").Expect(http.StatusOK).Contains("Restore revision 1")
	diff := owner.Get("/stories/" + id + "/diff?a=1&b=2").Expect(http.StatusOK)
	if diff.Doc.Find("ins").Length() == 0 || diff.Doc.Find("del").Length() == 0 {
		t.Fatal("diff must mark insertions and deletions")
	}
	owner.Post("/stories/"+id+"/restore", url.Values{"revision": {"1"}, "base_revision": {"1"}}).Expect(http.StatusConflict).Contains("Admin Person saved revision 2")
	owner.Post("/stories/"+id+"/restore", url.Values{"revision": {"1"}, "base_revision": {"2"}}).Expect(http.StatusSeeOther)
	if st, _ := env.App.Stories.Get(t.Context(), id); st.Revision != 3 || st.Body != "Maria walked again." {
		t.Fatalf("restore: revision %d body %q", st.Revision, st.Body)
	}
}

func TestStoryWorkflowThroughTheRouter(t *testing.T) {
	env := apptest.New(t)
	owner, u := env.SignedIn(models.RoleStoryteller)
	reviewer, _ := env.SignedIn(models.RoleReviewer)
	publisher, _ := env.SignedIn(models.RolePublisher)
	form := storyForm(addPatient(env, u.ID, "Maria Lopez"), u.ID, "Maria walks again")
	form.Set("body", "Maria Lopez thanks her neighbour John Smith. Call 555-123-4567.")
	id := createStory(t, owner, form)
	page := owner.Get("/stories/" + id).Expect(http.StatusOK)
	var buttons []string
	page.Doc.Find("button[name=to]").Each(func(_ int, b *goquery.Selection) { buttons = append(buttons, b.AttrOr("value", "")) })
	if strings.Join(buttons, ",") != "awaiting_consent,archived" {
		t.Fatalf("owner's buttons: %v", buttons)
	}
	if publisher.Get("/stories/"+id).Doc.Find("button[name=to]").Length() != 0 {
		t.Fatal("a publisher may not move a drafting story")
	}
	if page.Doc.Find("mark.phi").Length() < 2 {
		t.Fatal("PHI findings must be highlighted on the story page")
	}
	publisher.Post("/stories/"+id+"/transition", url.Values{"to": {"published"}}).Expect(http.StatusConflict).Contains("From Drafting it can go to: Awaiting consent")
	publisher.Post("/stories/"+id+"/transition", url.Values{"to": {"awaiting_consent"}}).Expect(http.StatusForbidden).Contains("Only the story's owner")
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"awaiting_consent"}, "note": {"Ready for Maria"}, "revision": {"1"}}).Expect(http.StatusSeeOther)
	owner.Get("/stories/" + id).Expect(http.StatusOK).Contains("Ready for Maria").Contains("Awaiting consent")
	// Consent is recorded by the consent capability (system actor); simulate it.
	if _, err := env.App.Stories.Transition(t.Context(), storiesSystem, id, "consented", "", 0); err != nil {
		t.Fatal(err)
	}
	owner.Post("/stories/"+id+"/transition", url.Values{"to": {"in_review"}}).Expect(http.StatusSeeOther)
	reviewer.Post("/stories/"+id+"/transition", url.Values{"to": {"approved"}}).Expect(http.StatusConflict).Contains("still need")
	review := reviewer.Get("/stories/" + id + "/review").Expect(http.StatusOK)
	ack := url.Values{"revision": {"1"}}
	review.Doc.Find("input[name=finding]").Each(func(_ int, in *goquery.Selection) { ack.Add("finding", in.AttrOr("value", "")) })
	if len(ack["finding"]) < 2 || review.Doc.Find("th[scope=col]").Length() == 0 {
		t.Fatalf("review screen must list findings to acknowledge, got %d", len(ack["finding"]))
	}
	reviewer.Post("/stories/"+id+"/phi-ack", ack).Expect(http.StatusSeeOther)
	if reviewer.Get("/stories/"+id+"/review").Doc.Find("input[name=finding]").Length() != 0 {
		t.Fatal("all findings should be acknowledged")
	}
	reviewer.Post("/stories/"+id+"/transition", url.Values{"to": {"approved"}}).Expect(http.StatusConflict).Contains("No signed consent is recorded")
	var st models.Story
	env.App.DB.Where("id = ?", id).Take(&st)
	if st.Stage != "in_review" {
		t.Fatalf("stage %s", st.Stage)
	}
	var events, audits int64
	env.App.DB.Model(&models.StoryEvent{}).Where("story_id = ? AND kind = 'transition'", id).Count(&events)
	env.App.DB.Model(&models.AuditEntry{}).Where("object_id = ? AND action = 'story.transition'", id).Count(&audits)
	if events != 3 || audits != 3 {
		t.Fatalf("transitions recorded: %d events, %d audit entries", events, audits)
	}
}

func TestStoryListAndDashboard(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	patient := addPatient(env, u.ID, "Maria Lopez")
	for i := 0; i < 55; i++ {
		f := storyForm(patient, u.ID, "Story number "+strconv.Itoa(i))
		if i == 7 {
			f.Set("body", "A marathon after transplant.")
		}
		createStory(t, c, f)
	}
	first := c.Get("/stories").Expect(http.StatusOK)
	if n := first.Doc.Find("tbody tr").Length(); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	next := first.Doc.Find("a[rel=next]").AttrOr("href", "")
	second := c.Get(next)
	if n := second.Doc.Find("tbody tr").Length(); n != 5 {
		t.Fatalf("second page has %d rows", n)
	}
	// Filters and their choices survive paging.
	filtered := c.Get("/stories?tag=surgery&stage=drafting").Expect(http.StatusOK)
	if filtered.Doc.Find(`#stage option[selected]`).AttrOr("value", "") != "drafting" || filtered.Doc.Find(`#tag option[selected]`).AttrOr("value", "") != "surgery" ||
		filtered.Doc.Find(`#owner option[value="`+u.ID+`"]`).Length() != 1 || filtered.Doc.Find(`#patient a[href="/stories/choose-patient?for=list"]`).Length() != 1 {
		t.Fatal("the filter form does not show the chosen filters or the choices")
	}
	page2 := c.Get(filtered.Doc.Find("a[rel=next]").AttrOr("href", ""))
	if back := page2.Doc.Find("nav a").FilterFunction(func(_ int, a *goquery.Selection) bool { return a.Text() == "First page" }).AttrOr("href", ""); !strings.Contains(back, "tag=surgery") || strings.Contains(back, "after=") {
		t.Fatalf("first-page link %q loses the filters", back)
	}
	c.Get("/stories?q=marathon").Expect(http.StatusOK).Contains("Story number 7")
	if n := c.Get("/stories?q=marathon").Doc.Find("tbody tr a").Length(); n != 1 {
		t.Fatalf("search found %d", n)
	}
	c.Get("/stories?after=nonsense").Expect(http.StatusBadRequest)
	dash := c.Get("/").Expect(http.StatusOK).Contains("My drafts").Contains("Available once consent exists")
	if dash.Doc.Find("ul.queue li").Length() != 10 {
		t.Fatal("my drafts should list my stories")
	}
	rev, _ := env.SignedIn(models.RoleReviewer)
	rev.Get("/").Expect(http.StatusOK).Contains("Awaiting my review").Contains("Nothing is waiting for legal review.")
}

// storiesSystem stands in for the consent capability recording a signature.
var storiesSystem = stories.Actor{System: true}

// TestStoryListEscapes: the list's rows (rendered in Go for speed) escape
// titles and names as the template would, link to the story, and show its
// stage, revision and time.
func TestStoryListEscapes(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	id := createStory(t, c, storyForm(addPatient(env, u.ID, "Maria Lopez"), u.ID, `Maria <script>alert("x")</script> & "friends"`))
	page := c.Get("/stories").Expect(http.StatusOK)
	if strings.Contains(page.Body, "<script>alert") {
		t.Fatal("a story title reached the list unescaped")
	}
	row := page.Doc.Find("tbody tr").First()
	link := row.Find("a")
	if link.AttrOr("href", "") != "/stories/"+id || link.Text() != `Maria <script>alert("x")</script> & "friends"` {
		t.Fatalf("row link %q %q", link.AttrOr("href", ""), link.Text())
	}
	var cells []string
	row.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, td.Text()) })
	if len(cells) != 5 || cells[1] != "Drafting" || cells[2] != u.Name || cells[3] != "1" || len(cells[4]) != len("2006-01-02 15:04") {
		t.Fatalf("row cells %q", cells)
	}
}
