package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestEveryRouteHasAPermission fails when a route is registered outside the
// route table, or names a permission no role holds (a typo or a forgotten
// policy), so a new route cannot ship without a decision about who may use it.
func TestEveryRouteHasAPermission(t *testing.T) {
	env := apptest.New(t)
	srv := env.App.Web
	table := map[string]authz.Perm{}
	for _, r := range srv.RouteTable() {
		key := r.Method + " " + r.Path
		if r.Perm == (authz.Perm{}) {
			t.Errorf("%s has no permission", key)
		}
		if r.Perm != authz.Public {
			granted := false
			for _, role := range models.Roles {
				granted = granted || srv.Allowed(role, r.Perm)
			}
			if !granted {
				t.Errorf("%s needs %s, which no role holds", key, r.Perm)
			}
		}
		table[key] = r.Perm
	}
	for _, r := range srv.Echo().Routes() {
		if strings.HasPrefix(r.Name, "github.com/labstack/echo") {
			continue
		}
		if _, ok := table[r.Method+" "+r.Path]; !ok {
			t.Errorf("route %s %s is registered outside the route table", r.Method, r.Path)
		}
	}
}

// TestRouteRoleMatrix walks every route as every role (and signed out) and
// checks the answer against the policy.
func TestRouteRoleMatrix(t *testing.T) {
	env := apptest.New(t)
	target, _ := env.CreateUser(models.RoleReviewer) // the object of /admin/users/:id/… routes
	clients := map[string]*apptest.Client{"anonymous": env.Client()}
	for _, role := range models.Roles {
		c, _ := env.SignedIn(role)
		clients[role] = c
	}
	for _, r := range env.App.Web.RouteTable() {
		path := strings.ReplaceAll(r.Path, ":id", target.ID)
		path = strings.ReplaceAll(path, ":hash/*", "x/css/app.css")
		if r.Path == "/logout" {
			continue // signing out would end the clients' sessions; covered in auth tests
		}
		for who, c := range clients {
			t.Run(who+" "+r.Method+" "+r.Path, func(t *testing.T) {
				var res *apptest.Resp
				form := url.Values{"role": {models.RoleReviewer}}
				switch r.Method {
				case http.MethodGet:
					res = c.Get(path)
				case http.MethodPost:
					res = c.Post(path, form)
				default:
					req, _ := http.NewRequest(r.Method, env.Server.URL+path, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-CSRF-Token", c.CSRF())
					res = c.Do(req)
				}
				switch {
				case r.Perm == authz.Public:
					if res.Status == http.StatusForbidden || res.Status >= 500 {
						t.Fatalf("public route answered %d", res.Status)
					}
				case who == "anonymous":
					if r.Method == http.MethodGet {
						if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
							t.Fatalf("signed-out GET: %d to %q, want redirect to /login", res.Status, res.Location())
						}
					} else if res.Status != http.StatusUnauthorized {
						t.Fatalf("signed-out POST: %d, want 401", res.Status)
					}
				case env.App.Web.Allowed(who, r.Perm):
					if res.Status == http.StatusForbidden || res.Status >= 500 {
						t.Fatalf("%s may %s but got %d: %s", who, r.Perm, res.Status, res.Text("main"))
					}
				default:
					if res.Status != http.StatusForbidden {
						t.Fatalf("%s may not %s but got %d", who, r.Perm, res.Status)
					}
					res.Contains("does not allow this")
				}
			})
		}
	}
}

// TestEveryPageRenders opens every GET page as an admin and checks it is a
// complete page with a heading, a title and a main landmark.
func TestEveryPageRenders(t *testing.T) {
	env := apptest.New(t)
	c, _ := env.SignedIn(models.RoleAdmin)
	for _, r := range env.App.Web.RouteTable() {
		if r.Method != http.MethodGet || r.Perm == authz.Public || strings.Contains(r.Path, ":") {
			continue
		}
		res := c.Get(r.Path)
		if r.Path == "/stories/new" { // a new story starts at the patient chooser
			res = c.Get(res.Expect(http.StatusSeeOther).Header.Get("Location"))
		}
		res.Expect(http.StatusOK)
		if res.Text("h1") == "" || res.Text("title") == "" || res.Doc.Find("main#main").Length() != 1 {
			t.Errorf("%s: incomplete page (h1 %q, title %q)", r.Path, res.Text("h1"), res.Text("title"))
		}
		if res.Doc.Find("script:not([src])").Length() > 0 {
			t.Errorf("%s: inline script is not allowed by the CSP", r.Path)
		}
	}
}
