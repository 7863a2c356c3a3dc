// Package workflow is the story lifecycle: its stages and the one table of
// transitions, each guarded by who may make it and what must be true first.
// Keeping every rule in one table means the buttons a person sees, the checks
// a save runs and the messages a refusal gives can never disagree.
package workflow

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Stage is where a story is in its lifecycle; values are stored.
type Stage string

// The stages of PRODUCT.md's lifecycle diagram.
const (
	Interview        Stage = "interview"
	Drafting         Stage = "drafting"
	AwaitingConsent  Stage = "awaiting_consent"
	Consented        Stage = "consented"
	InReview         Stage = "in_review"
	Approved         Stage = "approved"
	Published        Stage = "published"
	Withdrawn        Stage = "withdrawn"
	ConsentDeclined  Stage = "consent_declined"
	ChangesRequested Stage = "changes_requested"
	Archived         Stage = "archived"
)

// Stages lists every stage in lifecycle order, for filters and counts.
var Stages = []Stage{Interview, Drafting, AwaitingConsent, Consented, InReview, ChangesRequested, Approved, Published, Withdrawn, ConsentDeclined, Archived}

var stageLabels = map[Stage]string{
	Interview: "Interview", Drafting: "Drafting", AwaitingConsent: "Awaiting consent", Consented: "Consented",
	InReview: "In legal review", Approved: "Approved", Published: "Published", Withdrawn: "Withdrawn",
	ConsentDeclined: "Consent declined", ChangesRequested: "Changes requested", Archived: "Archived",
}

// Label is the stage's name on screens.
func (s Stage) Label() string {
	if l, ok := stageLabels[s]; ok {
		return l
	}
	return string(s)
}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { _, ok := stageLabels[s]; return ok }

// Editable reports whether a story's content may still be changed. Published
// content must be withdrawn first; archived and declined stories are records.
func Editable(s Stage) bool {
	return !slices.Contains([]Stage{Published, Withdrawn, Archived, ConsentDeclined}, s)
}

// ConsentCovered reports whether a patient has been asked about, or has
// agreed to, the story's current content: editing it then supersedes the
// consent and sends the story back to drafting.
func ConsentCovered(s Stage) bool {
	return slices.Contains([]Stage{AwaitingConsent, Consented, InReview, ChangesRequested, Approved}, s)
}

// Actor is who asks for a transition. System is Storykeep itself acting on
// a patient's signature, decline, revocation or a consent's expiry.
type Actor struct {
	UserID string
	Role   string
	System bool
}

// Story is what the guards need to know about a story.
type Story struct {
	ID       string
	Stage    Stage
	Revision int
	// AuthorIDs are the owner and collaborators.
	AuthorIDs []string
	Channels  []string
	// UnacknowledgedPHI counts PHI findings in the current revision that no
	// reviewer has acknowledged yet.
	UnacknowledgedPHI int
	// PhotosWithoutAlt counts the story's photos that have no alt text yet;
	// a story cannot be approved until every photo is described.
	PhotosWithoutAlt int
	// NotBefore is when legal approval lets the story go public, if the
	// reviewer set a time; publishing earlier is refused.
	NotBefore *time.Time
}

func (s Story) isAuthor(id string) bool { return id != "" && slices.Contains(s.AuthorIDs, id) }

// ConsentChecker answers whether a valid, signed consent covers the story's
// current content and every given channel. The consent capability provides
// the real one; until then NoConsent refuses, so nothing is approved without
// consent.
type ConsentChecker interface {
	Covers(ctx context.Context, storyID string, revision int, channels []string) (ok bool, reason string, err error)
}

// NoConsent is the ConsentChecker used before consents exist: it never finds one.
type NoConsent struct{}

// Covers always refuses, saying why.
func (NoConsent) Covers(context.Context, string, int, []string) (bool, string, error) {
	return false, "No signed consent is recorded for this story yet, so it cannot be approved. Approval becomes possible once the patient's consent covering its channels is recorded.", nil
}

// TransitionEvent describes a transition that has just been stored.
type TransitionEvent struct {
	StoryID  string
	From, To Stage
	Revision int
	ActorID  string
	Note     string
}

// ConsentSuperseded says that content a patient was asked about (or agreed
// to) changed: the consent no longer matches and a new one is needed.
type ConsentSuperseded struct {
	StoryID string
	// OldRevision was covered by the consent request; NewRevision replaced it.
	OldRevision, NewRevision int
	FromStage                Stage
	ActorID                  string
}

// Hooks let other capabilities (consent, publishing) act on lifecycle events
// inside the same transaction; returning an error undoes the change.
type Hooks interface {
	Transitioned(ctx context.Context, tx *gorm.DB, ev TransitionEvent) error
	ConsentSuperseded(ctx context.Context, tx *gorm.DB, ev ConsentSuperseded) error
}

// NopHooks does nothing; it is the default until a capability plugs in.
type NopHooks struct{}

// Transitioned does nothing.
func (NopHooks) Transitioned(context.Context, *gorm.DB, TransitionEvent) error { return nil }

// ConsentSuperseded does nothing.
func (NopHooks) ConsentSuperseded(context.Context, *gorm.DB, ConsentSuperseded) error { return nil }
