// Package models holds Storykeep's GORM models and the queries on them. It
// imports nothing from app/, so the data layer stays the bottom of the stack.
package models

import "time"

// Roles a staff user can hold. A user has exactly one.
const (
	RoleAdmin       = "admin"
	RoleStoryteller = "storyteller"
	RoleReviewer    = "reviewer"
	RolePublisher   = "publisher"
)

// Roles lists every role, in the order screens show them.
var Roles = []string{RoleAdmin, RoleStoryteller, RoleReviewer, RolePublisher}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// User is a staff account. Patients never have one.
type User struct {
	ID                 string `gorm:"primaryKey"`
	Email              string
	Name               string
	Role               string
	PasswordHash       string
	MustChangePassword bool
	TOTPSecret         string `gorm:"column:totp_secret"` // sealed with the data key
	TOTPEnabled        bool   `gorm:"column:totp_enabled"`
	// TOTPLastStep is the last time step (Unix seconds / 30) whose code
	// signed in; a code is accepted once (F13).
	TOTPLastStep int64 `gorm:"column:totp_last_step"`
	DisabledAt   *time.Time
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Active reports whether the account may sign in.
func (u *User) Active() bool { return u.DisabledAt == nil }

// Session is a server-side session row (token, encoded data, expiry), shared
// by every replica through the database.
type Session struct {
	Token  string `gorm:"primaryKey"`
	Data   string
	Expiry time.Time
	UserID *string // the signed-in user, read out of Data when it is saved
}

// LoginThrottle counts failed sign-ins for one key (an account or an IP,
// hashed) within a window.
type LoginThrottle struct {
	Key         string `gorm:"primaryKey"`
	Failures    int
	WindowStart time.Time
}

// AuditEntry is one entry of the append-only, hash-chained audit log. It is
// appended unlinked (Seq, PrevHash and Hash nil) in the transaction of the
// change it describes; the chaining job then gives it its place in the
// chain (Seq) and its hashes. ID is the order of arrival only: the chain
// proves the order of Seq.
type AuditEntry struct {
	ID         int64 `gorm:"primaryKey"`
	Seq        *int64
	At         time.Time
	ActorID    string
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	RequestID  string
	IP         string `gorm:"column:ip"`
	Details    string
	PrevHash   *string
	Hash       *string
}

// TableName keeps the audit table's name singular as in the migration.
func (AuditEntry) TableName() string { return "audit_log" }
