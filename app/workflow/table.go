package workflow

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/models"
)

// Transition is one line of the table: from which stages, to which stage,
// who may make it (May, described in Who) and what must hold first (Check).
type Transition struct {
	From   []Stage // nil: any stage other than To
	To     Stage
	Action string // the button's label
	Who    string // who may make it, in words, for messages
	May    func(a Actor, s Story) bool
	Check  func(ctx context.Context, e *Engine, s Story) error
	// NeedsNote, when set, is the message refusing the transition without a
	// note: a reviewer must say what to change, or why a story is rejected.
	NeedsNote string
}

// Allows reports whether the transition leaves from stage.
func (t Transition) Allows(from Stage) bool {
	if t.From == nil {
		return from != t.To
	}
	return slices.Contains(t.From, from)
}

const (
	whoOwner     = "the story's owner, a collaborator or an admin"
	whoReviewer  = "a legal reviewer who is not the story's author or a collaborator"
	whoPublisher = "a publisher"
	whoSystem    = "Storykeep itself, when the patient acts or a consent ends"
)

func ownerOrAdmin(a Actor, s Story) bool {
	return a.Role == models.RoleAdmin || (a.Role == models.RoleStoryteller && s.isAuthor(a.UserID))
}
func independentReviewer(a Actor, s Story) bool {
	return a.Role == models.RoleReviewer && !s.isAuthor(a.UserID)
}
func publisher(a Actor, _ Story) bool { return a.Role == models.RolePublisher }
func system(a Actor, _ Story) bool    { return a.System }
func publisherOrSystem(a Actor, s Story) bool {
	return publisher(a, s) || system(a, s)
}

// Table is every transition of the lifecycle in PRODUCT.md. Edits of
// consent-covered content move a story back to drafting through the stories
// service (see ConsentCovered), not through a button.
var Table = []Transition{
	{From: []Stage{Interview}, To: Drafting, Action: "Start drafting", Who: whoOwner, May: ownerOrAdmin},
	{From: []Stage{Drafting}, To: AwaitingConsent, Action: "Ask the patient for consent", Who: whoOwner, May: ownerOrAdmin, Check: needsChannels},
	{From: []Stage{AwaitingConsent}, To: Consented, Action: "Record consent", Who: whoSystem, May: system},
	{From: []Stage{AwaitingConsent}, To: ConsentDeclined, Action: "Record declined consent", Who: whoSystem, May: system},
	{From: []Stage{Consented}, To: InReview, Action: "Send to legal review", Who: whoOwner, May: ownerOrAdmin},
	{From: []Stage{InReview}, To: Approved, Action: "Approve for publication", Who: whoReviewer, May: independentReviewer, Check: approvable},
	{From: []Stage{InReview}, To: ChangesRequested, Action: "Request changes", Who: whoReviewer, May: independentReviewer,
		NeedsNote: "Say what needs to change: the note goes to the story's author with the request."},
	{From: []Stage{ChangesRequested}, To: Drafting, Action: "Resume drafting", Who: whoOwner, May: ownerOrAdmin},
	{From: []Stage{Approved}, To: Published, Action: "Publish", Who: whoPublisher, May: publisherOrSystem, Check: notBefore},                    // the system publishes when a scheduled post goes out
	{From: []Stage{Consented, InReview, ChangesRequested, Approved, Published}, To: Withdrawn, Action: "Withdraw", Who: whoSystem, May: system}, // a consent ends (revoked or expired) at any stage past consent
	{From: nil, To: Archived, Action: "Archive", Who: whoOwner, May: ownerOrAdmin},
	{From: []Stage{InReview}, To: Archived, Action: "Reject", Who: whoReviewer, May: independentReviewer,
		NeedsNote: "Give the reason for rejecting the story: it is kept with the story's record."},
}

func needsChannels(_ context.Context, _ *Engine, s Story) error {
	if len(s.Channels) == 0 {
		return apperr.New(http.StatusConflict, "Choose at least one channel before asking for consent: the patient consents per channel.")
	}
	return nil
}

// approvable: every PHI finding acknowledged, and a consent covering the channels.
func approvable(ctx context.Context, e *Engine, s Story) error {
	if s.UnacknowledgedPHI > 0 {
		return apperr.New(http.StatusConflict, fmt.Sprintf("%d PHI finding%s still need%s a reviewer's acknowledgement before approval. Open the review screen and acknowledge each one.",
			s.UnacknowledgedPHI, plural(s.UnacknowledgedPHI), map[bool]string{true: "s", false: ""}[s.UnacknowledgedPHI == 1]))
	}
	if s.PhotosWithoutAlt > 0 {
		return apperr.New(http.StatusConflict, fmt.Sprintf("%d photo%s still need%s alt text before approval. Open the story's media page and describe each photo.",
			s.PhotosWithoutAlt, plural(s.PhotosWithoutAlt), map[bool]string{true: "s", false: ""}[s.PhotosWithoutAlt == 1]))
	}
	ok, reason, err := e.consent.Covers(ctx, s.ID, s.Revision, s.Channels)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(http.StatusConflict, reason)
	}
	return nil
}

// notBefore: a reviewer's publish-not-before time has come.
func notBefore(_ context.Context, _ *Engine, s Story) error {
	if s.NotBefore != nil && time.Now().Before(*s.NotBefore) {
		return apperr.New(http.StatusConflict, "Legal review approved this story for publication from "+s.NotBefore.UTC().Format("2 January 2006 15:04")+
			" UTC, not before. Publish it then, or schedule its posts for that time or later.")
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Engine applies the table with a consent checker.
type Engine struct{ consent ConsentChecker }

// New returns an engine; a nil checker means NoConsent.
func New(c ConsentChecker) *Engine {
	if c == nil {
		c = NoConsent{}
	}
	return &Engine{consent: c}
}

// Available lists the transitions a may make from s's stage (conditions are
// checked when the transition is attempted, so a refusal can say why).
func (e *Engine) Available(a Actor, s Story) []Transition {
	var out []Transition
	for _, t := range Table {
		if t.Allows(s.Stage) && t.May(a, s) {
			out = append(out, t)
		}
	}
	return out
}

// Check returns the transition from s's stage to `to` if a may make it now,
// or an error saying plainly what is possible from here and who may do it.
func (e *Engine) Check(ctx context.Context, a Actor, s Story, to Stage) (*Transition, error) {
	var from []Transition
	var forbidden error
	for i := range Table {
		t := Table[i]
		if !t.Allows(s.Stage) {
			continue
		}
		from = append(from, t)
		if t.To != to {
			continue
		}
		// Several rows may lead to the same stage (the owner archives, a
		// reviewer rejects): any one that lets a through will do.
		if !t.May(a, s) {
			if forbidden == nil {
				forbidden = apperr.New(http.StatusForbidden, fmt.Sprintf("Only %s may move a story from %s to %s.", t.Who, s.Stage.Label(), to.Label()))
			}
			continue
		}
		if t.Check != nil {
			if err := t.Check(ctx, e, s); err != nil {
				return nil, err
			}
		}
		return &t, nil
	}
	if forbidden != nil {
		return nil, forbidden
	}
	var opts []string
	for _, t := range from {
		opts = append(opts, fmt.Sprintf("%s (by %s)", t.To.Label(), t.Who))
	}
	msg := fmt.Sprintf("A story cannot move from %s to %s.", s.Stage.Label(), to.Label())
	if !to.Valid() {
		msg = "That is not a stage a story can move to."
	}
	if len(opts) == 0 {
		return nil, apperr.New(http.StatusConflict, msg+" Nothing can happen to it from here.")
	}
	return nil, apperr.New(http.StatusConflict, msg+" From "+s.Stage.Label()+" it can go to: "+strings.Join(opts, "; ")+".")
}
