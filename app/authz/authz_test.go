package authz_test

import (
	"testing"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type story struct{ owners []string }

func (s story) OwnerIDs() []string { return s.owners }

func TestDenyByDefaultAndOwnership(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	z, err := authz.New(gdb)
	if err != nil {
		t.Fatal(err)
	}
	admin := authz.Subject{UserID: "a", Role: "admin"}
	teller := authz.Subject{UserID: "s1", Role: "storyteller"}
	if !z.Allowed(admin, authz.UsersManage) || z.Allowed(teller, authz.UsersManage) {
		t.Fatal("users:manage must be admin only")
	}
	if z.Allowed(authz.Subject{}, authz.DashboardView) || !z.Allowed(authz.Subject{}, authz.Public) {
		t.Fatal("no role: only public routes")
	}
	if z.Allowed(admin, authz.Perm{Obj: "nothing", Act: "ever"}) {
		t.Fatal("unknown permission must be denied, even to admin")
	}
	// Ownership: grant storyteller an _own permission and check it. The
	// decision is asked (and cached) first: a reload must forget it.
	if z.Allowed(teller, authz.Perm{Obj: "thing", Act: "edit_own"}) {
		t.Fatal("edit_own allowed before it was granted")
	}
	if err := gdb.Exec("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p','storyteller','thing','edit_own','','','')").Error; err != nil {
		t.Fatal(err)
	}
	if err := z.Reload(); err != nil {
		t.Fatal(err)
	}
	edit := authz.Perm{Obj: "thing", Act: "edit"}
	if !z.AllowedOn(teller, edit, story{owners: []string{"s1"}}) {
		t.Fatal("owner should be allowed")
	}
	if z.AllowedOn(teller, edit, story{owners: []string{"s2"}}) {
		t.Fatal("non-owner must be denied")
	}
	if z.AllowedOn(authz.Subject{UserID: "s1", Role: "reviewer"}, edit, story{owners: []string{"s1"}}) {
		t.Fatal("role without the _own permission must be denied even as owner")
	}
}
