package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

// The patient is chosen through a name search, never from a list of every
// patient: for a new story, to filter the story list, and to change a
// story's patient.
func TestPatientChooser(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	other, _ := env.SignedIn(models.RoleStoryteller)
	publisher, _ := env.SignedIn(models.RolePublisher)
	maria := addPatient(env, u.ID, "Maria Lopez")
	marek := addPatient(env, u.ID, "Marek Novak")
	james := addPatient(env, u.ID, "James Okafor")

	// A new story starts by choosing who it is about.
	if loc := c.Get("/stories/new").Expect(http.StatusSeeOther).Location(); loc != "/stories/choose-patient?for=new" {
		t.Fatalf("new story without a patient goes to %q", loc)
	}
	empty := c.Get("/stories/choose-patient?for=new").Expect(http.StatusOK)
	if strings.Contains(empty.Body, "Maria Lopez") || empty.Doc.Find("#q").Length() != 1 {
		t.Fatal("before a search the chooser must show a search and no names")
	}
	found := c.Get("/stories/choose-patient?for=new&q=MAR").Expect(http.StatusOK)
	if found.Doc.Find(`a[href="/stories/new?patient=`+maria+`"]`).Text() != "Maria Lopez" ||
		found.Doc.Find(`a[href="/stories/new?patient=`+marek+`"]`).Length() != 1 || strings.Contains(found.Body, "James Okafor") {
		t.Fatalf("a search for mar must offer Maria and Marek only:\n%s", found.Text("tbody"))
	}
	// Rows are written without html/template (patientRows): a name is
	// still text, never markup, and each column is where it belongs.
	hostile := addPatient(env, u.ID, `Marisol <script>alert(1)</script> "O'Hara" & Co`)
	row := c.Get("/stories/choose-patient?for=new&q=marisol").Expect(http.StatusOK)
	if strings.Contains(row.Body, "<script>alert") || row.Doc.Find("tbody script").Length() != 0 {
		t.Fatalf("a patient's name must be escaped in the chooser:\n%s", row.Body)
	}
	cells := row.Doc.Find("tbody tr").First().Find("td")
	if cells.Length() != 3 || cells.Eq(0).Find(`a[href="/stories/new?patient=`+hostile+`"]`).Text() != `Marisol <script>alert(1)</script> "O'Hara" & Co` ||
		cells.Eq(1).Text() != "Marisol" || cells.Eq(2).Text() != time.Now().UTC().Format("2006-01-02") {
		t.Fatalf("chooser row: %q", row.Text("tbody"))
	}
	if c.Get("/stories/choose-patient?for=new&q=okaf").Doc.Find(`a[href="/stories/new?patient=`+james+`"]`).Length() != 1 {
		t.Fatal("a family name's first letters must find the patient")
	}
	c.Get("/stories/choose-patient?for=new&q=zz").Expect(http.StatusOK).Contains("No patient has a name starting “zz”. Add the patient first.")
	form := c.Get("/stories/new?patient=" + maria).Expect(http.StatusOK)
	if form.Doc.Find("input[name=patient]").AttrOr("value", "") != maria || !strings.Contains(form.Text("#patient"), "Maria Lopez") {
		t.Fatal("the form must show and carry the chosen patient")
	}
	id := createStory(t, c, storyForm(maria, u.ID, "Maria walks again"))

	// The story list names no patient until one is chosen.
	list := c.Get("/stories").Expect(http.StatusOK)
	if strings.Contains(list.Body, "Maria Lopez") || list.Doc.Find(`select[name=patient]`).Length() != 0 ||
		list.Doc.Find(`a[href="/stories/choose-patient?for=list"]`).Length() != 1 {
		t.Fatal("the list must offer the chooser, not every patient's name")
	}
	if c.Get("/stories/choose-patient?for=list&q=jam").Doc.Find(`a[href="/stories?patient=`+james+`"]`).Length() != 1 {
		t.Fatal("the chooser for the list must link to the filtered list")
	}
	filtered := c.Get("/stories?patient=" + maria + "&q=walks").Expect(http.StatusOK)
	if !strings.Contains(filtered.Text("#patient"), "Maria Lopez") || filtered.Doc.Find("input[name=patient]").AttrOr("value", "") != maria ||
		filtered.Doc.Find(`a[href="/stories?q=walks"]`).Length() != 1 || !strings.Contains(filtered.Body, "Maria walks again") {
		t.Fatal("a patient filter must name the patient, keep it on the next search, and offer to drop it alone")
	}
	if strings.Contains(c.Get("/stories?patient="+james).Body, "Maria walks again") {
		t.Fatal("the patient filter must keep only that patient's stories")
	}

	// Changing the patient of a story: chosen, shown as changed, saved with the story.
	pick := c.Get("/stories/choose-patient?for=" + id + "&q=james").Expect(http.StatusOK)
	link := pick.Doc.Find(`a[href="/stories/` + id + `/edit?patient=` + james + `"]`)
	if link.Length() != 1 {
		t.Fatalf("the chooser for a story must link back to its edit form:\n%s", pick.Text("main"))
	}
	edit := c.Get("/stories/" + id + "/edit?patient=" + james).Expect(http.StatusOK).Contains("changed: saved when you save the story")
	if edit.Doc.Find("input[name=patient]").AttrOr("value", "") != james {
		t.Fatal("the edit form must carry the newly chosen patient")
	}
	save := storyForm(james, u.ID, "Maria walks again")
	save.Set("base_revision", "1")
	c.Post("/stories/"+id, save).Expect(http.StatusSeeOther)
	if st, _ := env.App.Stories.Get(t.Context(), id); st.PatientID != james {
		t.Fatalf("saved patient %s, want James", st.PatientID)
	}

	// The patient's page leads to their stories, and to a new one for those who write.
	reviewer, _ := env.SignedIn(models.RoleReviewer)
	page := c.Get("/patients/" + maria).Expect(http.StatusOK)
	if page.Doc.Find(`a[href="/stories?patient=`+maria+`"]`).Length() != 1 || page.Doc.Find(`a[href="/stories/new?patient=`+maria+`"]`).Length() != 1 {
		t.Fatal("the patient page must link to the patient's stories and to writing one")
	}
	if rp := reviewer.Get("/patients/" + maria).Expect(http.StatusOK); rp.Doc.Find(`a[href="/stories?patient=`+maria+`"]`).Length() != 1 ||
		rp.Doc.Find(`a[href^="/stories/new"]`).Length() != 0 {
		t.Fatal("a reviewer sees the patient's stories but is not offered to write one")
	}

	// A story past the stages where it can be edited keeps its patient.
	if err := env.App.DB.Model(&models.Story{}).Where("id = ?", id).Update("stage", "published").Error; err != nil {
		t.Fatal(err)
	}
	c.Get("/stories/choose-patient?for=" + id + "&q=m").Expect(http.StatusConflict).Contains("its patient can no longer be changed")

	// Who may choose for what.
	other.Get("/stories/choose-patient?for=" + id + "&q=m").Expect(http.StatusForbidden)
	c.Get("/stories/choose-patient?for=no-such-story&q=m").Expect(http.StatusNotFound)
	publisher.Get("/stories/choose-patient?for=list&q=m").Expect(http.StatusForbidden)
	if strings.Contains(publisher.Get("/stories").Expect(http.StatusOK).Body, "choose-patient") {
		t.Fatal("a role that may not list patients must not be offered the chooser")
	}
	if strings.Contains(publisher.Get("/stories?patient="+james).Expect(http.StatusOK).Body, "James Okafor") {
		t.Fatal("a role that may not list patients must not see a patient's name through the filter")
	}
}

// Twenty matches a page; the next page carries the search and the purpose.
func TestPatientChooserPages(t *testing.T) {
	env := apptest.New(t)
	c, u := env.SignedIn(models.RoleStoryteller)
	for i := 0; i < 23; i++ {
		addPatient(env, u.ID, fmt.Sprintf("Ann Example%02d", i))
	}
	first := c.Get("/stories/choose-patient?for=list&q=ann").Expect(http.StatusOK)
	if n := first.Doc.Find("tbody a").Length(); n != 20 {
		t.Fatalf("first page: %d patients, want 20", n)
	}
	next, ok := first.Doc.Find("a[rel=next]").Attr("href")
	if !ok {
		t.Fatal("no link to more patients")
	}
	u2, _ := url.Parse(next)
	if u2.Query().Get("for") != "list" || u2.Query().Get("q") != "ann" {
		t.Fatalf("next page link %q must keep for and q", next)
	}
	second := c.Get(next).Expect(http.StatusOK)
	if n := second.Doc.Find("tbody a").Length(); n != 3 || second.Doc.Find("a[rel=next]").Length() != 0 {
		t.Fatalf("second page: %d patients", n)
	}
}
