package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/models"
)

// TestConsentTemplateAdmin: an admin makes a new version of the active
// English form, removes the right-to-revoke section, is refused activation
// with that element named, puts it back, activates it, and the previous
// version is retired.
func TestConsentTemplateAdmin(t *testing.T) {
	env := apptest.New(t)
	admin, _ := env.SignedIn(models.RoleAdmin)
	active, err := env.App.Templates.Active(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	list := admin.Get("/admin/consent-templates").Expect(http.StatusOK)
	if !strings.Contains(list.Text("#template-"+active.ID), "active") {
		t.Fatalf("the default English form should be listed as active: %q", list.Text("main"))
	}
	res := admin.Post("/admin/consent-templates/"+active.ID+"/version", nil).Expect(http.StatusSeeOther)
	draftURL := res.Location()
	draft := admin.Get(draftURL).Expect(http.StatusOK).Contains("This form has every required element.")
	body := draft.Doc.Find("#body").Text()
	noRevoke := regexp.MustCompile(`(?s)## Right to revoke.*?\n## `).ReplaceAllString(body, "## ")
	if noRevoke == body {
		t.Fatal("fixture: the right-to-revoke section was not found")
	}
	admin.Post(draftURL, url.Values{"name": {"Patient story authorization"}, "body": {noRevoke}}).Expect(http.StatusSeeOther)
	refused := admin.Post(draftURL+"/activate", nil).Expect(http.StatusUnprocessableEntity)
	refused.Contains("This form cannot be used yet").Contains("Right to revoke")
	admin.Post(draftURL, url.Values{"name": {"Patient story authorization"}, "body": {body + "\n"}}).Expect(http.StatusSeeOther)
	admin.Post(draftURL+"/activate", nil).Expect(http.StatusSeeOther)
	now, err := env.App.Templates.Active(context.Background(), "en")
	if err != nil || now.ID == active.ID || now.Version != active.Version+1 {
		t.Fatalf("new active form: %+v %v", now, err)
	}
	old, _ := env.App.Templates.Get(context.Background(), active.ID)
	if old.Status != models.TemplateRetired {
		t.Fatalf("previous version is %s", old.Status)
	}
	// An active form cannot be edited.
	admin.Post("/admin/consent-templates/"+now.ID, url.Values{"name": {"x"}, "body": {"x"}}).Expect(http.StatusConflict)
	storyteller, _ := env.SignedIn(models.RoleStoryteller)
	storyteller.Get("/admin/consent-templates").Expect(http.StatusForbidden)
}
