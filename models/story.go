package models

import (
	"time"
)

// Story is a patient story's current state. Its content columns repeat the
// latest revision so lists and search read one row; StoryRevision keeps the
// history. Tags, channels and collaborators live in their own tables so lists
// can filter on them with an index.
type Story struct {
	ID          string `gorm:"primaryKey"`
	Slug        string
	Title       string
	Summary     string
	Body        string
	ChannelCopy string // JSON object: channel key -> text
	OwnerID     string
	PatientID   string
	InterviewID *string
	Stage       string
	Revision    int // number of the latest revision; the optimistic lock
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// TagBits and ChannelBits hold a bit per tag (Tag.Bit) and channel
	// (channels.Bits) of the story, so a filtered list reads from its
	// covering index whether a story has the tag or channel.
	TagBits, ChannelBits int64

	Tags          []string `gorm:"-"`
	Channels      []string `gorm:"-"`
	Collaborators []string `gorm:"-"`
}

// OwnerIDs lets authz decide "_own" permissions: the owner and every
// collaborator may work on the story.
func (s *Story) OwnerIDs() []string {
	return append([]string{s.OwnerID}, s.Collaborators...)
}

// Tag is a tag some story has had, with the bit it owns in
// stories.tag_bits: the first 63 tags get one each, in order of first use,
// and keep it; later tags have none (Bit is nil) and set TagOverflowBit.
// Rows are never deleted or changed, so a bit never changes hands.
type Tag struct {
	Tag string `gorm:"primaryKey"`
	Bit *int
}

// TagOverflowBit is the stories.tag_bits bit of a story having any tag
// without a bit of its own.
const TagOverflowBit = int64(-1 << 63)

// StoryTag is one tag of a story.
type StoryTag struct {
	StoryID string `gorm:"primaryKey"`
	Tag     string `gorm:"primaryKey"`
}

// StoryChannel is one channel a story is meant for.
type StoryChannel struct {
	StoryID string `gorm:"primaryKey"`
	Channel string `gorm:"primaryKey"`
}

// StoryCollaborator is a staff user who may edit a story besides its owner.
type StoryCollaborator struct {
	StoryID string `gorm:"primaryKey"`
	UserID  string `gorm:"primaryKey"`
}

// StoryRevision is an immutable snapshot taken at every save, so any earlier
// wording can be shown, compared and restored.
type StoryRevision struct {
	ID           string `gorm:"primaryKey"`
	StoryID      string
	Number       int
	AuthorID     string
	Title        string
	Summary      string
	Body         string
	Tags         string // JSON array
	Channels     string // JSON array
	ChannelCopy  string // JSON object
	RestoredFrom *int
	CreatedAt    time.Time
}

// StoryDraft is an autosaved, unsubmitted edit buffer of one user on one
// story; it is not a revision and nobody else sees it.
type StoryDraft struct {
	StoryID      string `gorm:"primaryKey"`
	UserID       string `gorm:"primaryKey"`
	BaseRevision int
	Data         string // JSON of the form fields
	SavedAt      time.Time
}

// StoryEvent is one step of a story's timeline: a transition (with who, when
// and why) or another notable change such as a superseded consent.
type StoryEvent struct {
	ID        string `gorm:"primaryKey"`
	StoryID   string
	At        time.Time
	ActorID   string
	Kind      string // "created", "transition", "consent_superseded", "restored"
	FromStage string
	ToStage   string
	Revision  int
	Note      string
}

// StoryPHIAck records that a reviewer acknowledged one PHI finding of one
// revision; findings are identified by a fingerprint, not their text.
type StoryPHIAck struct {
	StoryID     string `gorm:"primaryKey"`
	Revision    int    `gorm:"primaryKey"`
	Fingerprint string `gorm:"primaryKey"`
	UserID      string
	At          time.Time
}

// TableName keeps the table name readable.
func (StoryPHIAck) TableName() string { return "story_phi_acks" }

// StoryApproval is a legal reviewer's approval of one revision of a story
// for some of its consented channels, optionally not before a time.
type StoryApproval struct {
	ID         string `gorm:"primaryKey"`
	StoryID    string
	Revision   int
	ReviewerID string
	NotBefore  *time.Time
	CreatedAt  time.Time

	Channels []string `gorm:"-"`
}

// StoryApprovalChannel is one channel an approval covers.
type StoryApprovalChannel struct {
	ApprovalID string `gorm:"primaryKey"`
	Channel    string `gorm:"primaryKey"`
}
