package models

import "time"

// UserIdentity ties an identity provider's subject to a staff account.
type UserIdentity struct {
	Issuer    string `gorm:"primaryKey"`
	Subject   string `gorm:"primaryKey"`
	UserID    string
	CreatedAt time.Time
}

// Purposes of a UserLink.
const (
	LinkInvite = "invite"
	LinkReset  = "reset"
)

// UserLink is a single-use emailed link (invitation or password reset); the
// token itself is never stored, only its SHA-256.
type UserLink struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Purpose   string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}
