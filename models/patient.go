package models

import "time"

// Patient is the subject of a story. Sealed fields hold ciphertext made by
// app/crypto (key id + AES-GCM); only services that audit the view open them.
type Patient struct {
	ID                string `gorm:"primaryKey"`
	FullName          string
	NameKey           string // lower-cased FullName: prefix search and keyset order
	PreferredName     string
	DOBSealed         string `gorm:"column:dob_sealed"`
	EmailSealed       string
	PhoneSealed       string
	MRNSealed         string `gorm:"column:mrn_sealed"`
	PreferredLanguage string
	RepName           string
	RepRelationship   string
	RepAuthority      string
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Interview statuses.
const (
	InterviewScheduled = "scheduled"
	InterviewCompleted = "completed"
	InterviewCancelled = "cancelled"
)

// Interview is a conversation with a patient from which a story is drafted.
type Interview struct {
	ID            string `gorm:"primaryKey"`
	PatientID     string
	InterviewerID string
	ScheduledAt   time.Time
	Location      string
	Remote        bool
	Notes         string
	Status        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}
