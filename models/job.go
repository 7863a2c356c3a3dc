package models

import "time"

// Job states.
const (
	JobPending   = "pending"
	JobRunning   = "running"
	JobDone      = "done"
	JobDead      = "dead" // failed every attempt; shown to admins
	JobCancelled = "cancelled"
)

// Job is one unit of background work. IdempotencyKey, when set, makes a
// second enqueue of the same work a no-op.
type Job struct {
	ID             string `gorm:"primaryKey"`
	Kind           string
	Payload        string
	IdempotencyKey *string
	Status         string
	Attempts       int
	MaxAttempts    int
	RunAt          time.Time
	LockedBy       string
	LockedUntil    *time.Time
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinishedAt     *time.Time
}
