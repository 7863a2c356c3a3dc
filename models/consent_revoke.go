package models

import "time"

// ConsentRevokeToken is one revocation link issued for a consent record:
// only the SHA-256 of its token is kept (issue 19 item 6), so neither a copy
// of the database nor the data key hands out working revocation links. A
// record has one per link issued: the patient's completion page and each
// certificate email.
type ConsentRevokeToken struct {
	TokenHash string `gorm:"primaryKey"`
	RecordID  string
	IssuedFor string // completion_page, email, or before_150 (migrated)
	CreatedAt time.Time
}
