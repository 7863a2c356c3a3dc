package models

import "time"

// Consent request statuses. pending → opened → verified → signed is the
// happy path; declined, superseded (the story changed), cancelled (by
// staff), expired (the link ran out) and locked (too many failed identity
// checks) end a request without a record.
const (
	RequestPending    = "pending"
	RequestOpened     = "opened"
	RequestVerified   = "verified"
	RequestSigned     = "signed"
	RequestDeclined   = "declined"
	RequestSuperseded = "superseded"
	RequestCancelled  = "cancelled"
	RequestExpired    = "expired"
	RequestLocked     = "locked"
)

// Consent record statuses: only a valid record authorises disclosure.
const (
	RecordValid      = "valid"
	RecordRevoked    = "revoked"
	RecordExpired    = "expired"
	RecordSuperseded = "superseded"
)

// ConsentRequest is one authorization sent to a patient (or their
// representative) for one frozen version of a story. TokenHash is the
// SHA-256 of the link token: the token itself is never stored.
type ConsentRequest struct {
	ID                  string `gorm:"primaryKey"`
	StoryID             string
	PatientID           string
	StoryRevision       int
	SignerKind          string // patient or representative
	Language            string
	TemplateID          string
	TemplateVersion     int
	TemplateTextSHA256  string `gorm:"column:template_text_sha256"`
	AuthorizationText   string
	AuthorizationSHA256 string `gorm:"column:authorization_sha256"`
	FrozenJSON          string `gorm:"column:frozen_json"`
	Digest              string
	Channels            string // JSON array of proposed channel keys
	MediaIDs            string `gorm:"column:media_ids"` // JSON array of proposed asset ids
	NameUsage           string
	MaxExpiresOn        time.Time
	TokenHash           string
	RevokeTokenHash     string
	VerifyMethod        string // dob or email_code, once chosen
	CodeHash            string
	CodeExpiresAt       *time.Time
	Failures            int
	Status              string
	ExpiresAt           time.Time
	SentAt              time.Time
	OpenedAt            *time.Time
	OpenedIP            string `gorm:"column:opened_ip"`
	VerifiedAt          *time.Time
	VerifiedIP          string `gorm:"column:verified_ip"`
	CompletedAt         *time.Time
	RemindersSent       int
	DeclineReason       string
	CreatedBy           string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// The representative the request is addressed to (issue 19 item 7):
	// their own name, relationship, authority and sealed email and phone.
	RepName         string
	RepRelationship string
	RepAuthority    string
	RepEmailSealed  string
	RepPhoneSealed  string
	// MinorException is staff's reason for letting a minor sign alone.
	MinorException string
	// Sponsored: someone pays for the disclosure (164.508(a)(3)/(a)(4)).
	Sponsored bool
	Sponsor   string
	// AltTemplateID is the active form in the other language when sent.
	AltTemplateID        string
	AltAuthorizationText string
}

// ConsentRecord is the evidence of a signed authorization. Its content
// columns never change after insert; only the status, the end and the
// notice columns do.
type ConsentRecord struct {
	ID                 string `gorm:"primaryKey"`
	RequestID          string
	StoryID            string
	PatientID          string
	Digest             string
	FrozenJSON         string `gorm:"column:frozen_json"`
	TemplateID         string
	TemplateVersion    int
	TemplateTextSHA256 string `gorm:"column:template_text_sha256"`
	AuthorizationText  string
	Language           string
	Channels           string // JSON array of chosen channel keys
	MediaIDs           string `gorm:"column:media_ids"` // JSON array of chosen asset ids
	NameUsage          string
	ExpiresOn          time.Time
	SignerName         string
	RepName            string
	RepRelationship    string
	RepAuthority       string
	Minor              bool
	MajorityOn         *time.Time
	SignatureKey       string
	SignatureSHA256    string `gorm:"column:signature_sha256"`
	SignatureTyped     bool
	// Method is how it was signed: MethodEsign, or MethodPaper (a scanned
	// paper form recorded by staff; PaperScanSHA256 is the scan's hash and
	// is part of the signed scope).
	Method             string     `gorm:"default:esign"`
	PaperScanSHA256    string     `gorm:"column:paper_scan_sha256"`
	PaperSignedOn      *time.Time // the date written on the paper form
	CertificateKey     string
	CertificateSHA256  string `gorm:"column:certificate_sha256"`
	EsignAgreed        bool
	IP                 string `gorm:"column:ip"`
	UserAgent          string
	SentAt             time.Time
	OpenedAt           *time.Time
	VerifiedAt         *time.Time
	SignedAt           time.Time
	RevokeTokenHash    string
	Status             string
	RevokedAt          *time.Time
	RevokeReason       string
	EndedAt            *time.Time
	ActedInReliance    string // JSON: what was already published when it ended
	RenewalNotifiedAt  *time.Time
	MajorityNotifiedAt *time.Time
	CreatedAt          time.Time
	// ScopeDigest is the signed-scope digest (docs/consent-digest.md) over
	// the choices, the signer and the hashes of the exact authorization text
	// (AuthorizationSHA256) and e-sign disclosure (EsignSHA256) shown.
	ScopeDigest         string
	AuthorizationSHA256 string `gorm:"column:authorization_sha256"`
	EsignSHA256         string `gorm:"column:esign_sha256"`
	EsignLanguage       string
	// EsignVersion and EsignText are the e-sign disclosure's version and
	// the exact text shown (contact details filled in); EsignSHA256 is its hash.
	EsignVersion string
	EsignText    string
	SignerKind   string // patient or representative
	// The identity check before revoking: an emailed code's hash, its end and failed tries.
	RevokeCodeHash      string
	RevokeCodeExpiresAt *time.Time
	RevokeFailures      int
	// The representative's attestation of authority and optional document.
	RepStatement      string
	RepDocumentKey    string
	RepDocumentSHA256 string `gorm:"column:rep_document_sha256"`
	// AssentName is a minor's typed name assenting beside the representative.
	AssentName string
	Sponsored  bool
	Sponsor    string
	// MajorityLapsedAt is when the consent lapsed at the patient's majority.
	MajorityLapsedAt *time.Time
}
