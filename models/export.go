package models

import "time"

// Delivery methods: how a channel's post leaves Storykeep.
const (
	MethodWebhook  = "webhook"
	MethodMastodon = "mastodon"
	MethodBluesky  = "bluesky"
	MethodBundle   = "bundle" // no account: a person posts from the export bundle
)

// Delivery states.
const (
	DeliveryQueued    = "queued"
	DeliverySending   = "sending"
	DeliverySent      = "sent"
	DeliveryFailed    = "failed"
	DeliveryCancelled = "cancelled"
	DeliveryDeleted   = "deleted"
)

// ChannelAccount says how one channel is delivered; Secret is sealed with
// the keyring (aad "channel_account:<channel>").
type ChannelAccount struct {
	Channel   string `gorm:"primaryKey"`
	Method    string
	URL       string
	Handle    string
	Secret    string
	Enabled   bool
	UpdatedBy string
	UpdatedAt time.Time
}

// Delivery is one post of one story revision to one channel.
type Delivery struct {
	ID             string `gorm:"primaryKey"`
	StoryID        string
	Channel        string
	Method         string
	Revision       int
	State          string
	RunAt          time.Time
	JobID          string
	DeleteJobID    string
	ExternalID     string
	ExternalURL    string
	Attempts       int
	LastError      string
	TakedownReason string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SentAt         *time.Time
}

// TableName keeps GORM from guessing "deliveries" wrongly on some inflectors.
func (Delivery) TableName() string { return "deliveries" }

// ShortLink is a tracked link back to a public story for one channel.
type ShortLink struct {
	Code      string `gorm:"primaryKey"`
	StoryID   string
	Channel   string
	CreatedAt time.Time
}

// LinkClick counts a short link's clicks on one UTC day (YYYY-MM-DD).
type LinkClick struct {
	Code   string `gorm:"primaryKey"`
	Day    string `gorm:"primaryKey"`
	Clicks int64
}
