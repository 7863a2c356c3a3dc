package models

import "time"

// WebsitePublication records a story's life on the public website. Slug is
// the public address, chosen at publication so it never carries the
// patient's name; it differs from the staff slug when that one does.
type WebsitePublication struct {
	StoryID         string `gorm:"primaryKey"`
	Slug            string
	Channels        string // JSON array: the story's approved channels when published
	Revision        int
	PublishedAt     time.Time
	UpdatedAt       time.Time
	WithdrawnAt     *time.Time
	WithdrawnReason string // the stage the story left "published" for, e.g. withdrawn, archived
}
