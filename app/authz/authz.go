// Package authz answers "may this user do this?" with Casbin: the model is
// embedded, the policies live in the database (seeded by migration, shared by
// replicas), and anything not allowed is denied. Ownership rules — a
// storyteller edits only their own stories — are expressed here too, as an
// "_own" action checked against the object's owner, so every rule of who may
// do what is in one place.
package authz

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"gorm.io/gorm"
)

//go:embed model.conf
var modelText string

// Perm is a permission: an object type and an action, as written in policies.
type Perm struct{ Obj, Act string }

func (p Perm) String() string { return p.Obj + ":" + p.Act }

// Public marks a route anyone may reach, signed in or not.
var Public = Perm{"public", "any"}

// Permissions the foundation knows. Later capabilities add theirs here and a
// migration grants them to roles.
var (
	DashboardView = Perm{"dashboard", "view"}
	AccountManage = Perm{"account", "manage"}
	UsersManage   = Perm{"users", "manage"}
	AuditRead     = Perm{"audit", "read"}
	JobsManage    = Perm{"jobs", "manage"}
)

// Subject is who asks: a role and a user id (for ownership).
type Subject struct {
	UserID string
	Role   string
}

// Owned is implemented by objects with an owner and collaborators.
type Owned interface {
	OwnerIDs() []string
}

// Enforcer wraps a Casbin enforcer with policies kept in the database.
type Enforcer struct {
	e *casbin.SyncedCachedEnforcer
}

// New loads the model and the policies from db.
func New(db *gorm.DB) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz model: %w", err)
	}
	a := dbAdapter{db: db.Session(&gorm.Session{})}
	// The cached enforcer remembers each (role, object, action) decision
	// until the policies are reloaded: every page asks a dozen of them for
	// its navigation, and the policy only changes with a migration.
	e, err := casbin.NewSyncedCachedEnforcer(m, a)
	if err != nil {
		return nil, fmt.Errorf("authz policies: %w", err)
	}
	return &Enforcer{e: e}, nil
}

// Reload re-reads policies from the database (after another replica changed them).
func (z *Enforcer) Reload() error { return z.e.LoadPolicy() }

// Allowed reports whether s may do p. Public is always allowed; a subject
// without a role is denied everything else.
func (z *Enforcer) Allowed(s Subject, p Perm) bool {
	if p == Public {
		return true
	}
	if s.Role == "" {
		return false
	}
	ok, err := z.e.Enforce(s.Role, p.Obj, p.Act)
	return err == nil && ok
}

// AllowedOn reports whether s may do p on obj: either the role holds p
// outright ("stories:edit"), or it holds the "_own" form ("stories:edit_own")
// and s is among obj's owners or collaborators.
func (z *Enforcer) AllowedOn(s Subject, p Perm, obj Owned) bool {
	if z.Allowed(s, p) {
		return true
	}
	if strings.HasSuffix(p.Act, "_own") || obj == nil || s.UserID == "" {
		return false
	}
	if !z.Allowed(s, Perm{p.Obj, p.Act + "_own"}) {
		return false
	}
	for _, id := range obj.OwnerIDs() {
		if id == s.UserID {
			return true
		}
	}
	return false
}

// Policies lists (role, object, action) lines, for the admin roles screen.
func (z *Enforcer) Policies() [][]string {
	p, _ := z.e.GetPolicy()
	return p
}
