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
	// RenditionsState is pending, ready, degraded (a tool was missing) or
	// failed; renditions are made by a background job after upload.
	RenditionsState string
	UploadedBy      string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// MediaRendition is a derived image (a channel crop, a poster frame).
type MediaRendition struct {
	AssetID    string `gorm:"primaryKey"`
	Name       string `gorm:"primaryKey"`
	StorageKey string
	Width      int
	Height     int
	SizeBytes  int64
	SHA256     string `gorm:"column:sha256"`
	Note       string
	CreatedAt  time.Time
}

// Upload is a resumable upload in progress: Received bytes have arrived, in
// Chunks objects under staging/<ID>/.
type Upload struct {
	ID        string `gorm:"primaryKey"`
	OwnerType string
	OwnerID   string
	UserID    string
	FileName  string
	SizeBytes int64
	Received  int64
	Chunks    int
	CreatedAt time.Time
	UpdatedAt time.Time
}
