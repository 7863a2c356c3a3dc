package models

import "time"

// Legal hold subjects.
const (
	HoldPatient = "patient"
	HoldStory   = "story"
)

// LegalHold blocks every deletion and purge of a patient's or a story's
// evidence while LiftedAt is nil.
type LegalHold struct {
	ID          string `gorm:"primaryKey"`
	SubjectType string
	SubjectID   string
	Reason      string
	SetBy       string
	SetAt       time.Time
	LiftedBy    string
	LiftedAt    *time.Time
}
