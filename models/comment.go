package models

import "time"

// Comment is an internal staff note on a story. StoryID is not a foreign key:
// comments were created before the stories table and must not depend on it.
type Comment struct {
	ID        string `gorm:"primaryKey"`
	StoryID   string
	AuthorID  string
	Body      string
	CreatedAt time.Time
}

// NotificationMention is the kind of notification an @mention creates.
const NotificationMention = "mention"

// Notification is one entry in a staff user's inbox.
type Notification struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Kind      string
	ActorID   string
	StoryID   string
	CommentID string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Setting is one organisation-wide key/value setting (see app/patients for
// the keys in use). It lives here with comments because both arrived in the
// same issue.
type Setting struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedBy string
	UpdatedAt time.Time
}
