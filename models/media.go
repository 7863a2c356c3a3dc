package models

import "time"

// Owners a media asset can be attached to.
const (
	OwnerStory     = "story"
	OwnerInterview = "interview"
)

// MediaAsset is a stored photo, video or recording. Its object lives at
// StorageKey in object storage; the row exists only once the object does.
type MediaAsset struct {
	ID          string `gorm:"primaryKey"`
	OwnerType   string
	OwnerID     string
	Kind        string
	ContentType string
	SizeBytes   int64
	SHA256      string `gorm:"column:sha256"`
	Width       int
	Height      int
	DurationMS  int64 `gorm:"column:duration_ms"`
	StorageKey  string
	OriginalKey string
	FileName    string
	AltText     string
	Caption     string
	FocalX      int // 0..1000, the point crops keep in view
	FocalY      int
	Degraded    string
	UploadedBy  string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
