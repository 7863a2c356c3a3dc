package models

import "time"

// How a consent record was signed.
const (
	MethodEsign = "esign"
	MethodPaper = "paper"
)

// Kinds of scanned paper kept as consent evidence.
const (
	PaperAuthorization   = "authorization"
	PaperRevocation      = "revocation"
	PaperEsignWithdrawal = "esign_withdrawal"
)

// ConsentPaperDocument is a scanned paper that changed a consent: the bytes
// are in object storage under StorageKey, their SHA-256 here.
type ConsentPaperDocument struct {
	ID          string `gorm:"primaryKey"`
	Kind        string
	PatientID   string
	StoryID     string
	RecordID    string
	StorageKey  string
	SHA256      string `gorm:"column:sha256"`
	ContentType string
	SizeBytes   int64
	DatedOn     time.Time // signed on (authorization) or received on
	RecordedBy  string
	CreatedAt   time.Time
}

// Kinds of patient task: things staff do by hand for a patient.
const (
	TaskPrintCopy    = "print_copy"    // hand over a printed copy of the signed form
	TaskPaperReceipt = "paper_receipt" // post the dated revocation receipt
	TaskPaperNotice  = "paper_notice"  // post a notice (Detail says which)
	TaskPaperOnly    = "paper_only"    // the patient withdrew e-consent: switch to paper
)

// ConsentPatientTask is one such task; TaskKey makes creating it idempotent.
type ConsentPatientTask struct {
	ID        string `gorm:"primaryKey"`
	Kind      string
	Detail    string
	PatientID string
	StoryID   string
	RecordID  string
	TaskKey   string
	CreatedAt time.Time
	DoneAt    *time.Time
	DoneBy    string
	Note      string
}

// ConsentPatientNotice records that a notice went to the patient, once per
// NoticeKey (record, kind and, for reminders, the day count).
type ConsentPatientNotice struct {
	ID        string `gorm:"primaryKey"`
	RecordID  string
	Kind      string
	NoticeKey string
	CreatedAt time.Time
}

// PatientEsignWithdrawal: the patient withdrew consent to electronic
// records; everything after goes on paper.
type PatientEsignWithdrawal struct {
	PatientID  string `gorm:"primaryKey"`
	DocumentID string
	ReceivedOn time.Time
	RecordedBy string
	CreatedAt  time.Time
}
