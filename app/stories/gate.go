package stories

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/channels"
)

// ConsentGate is the patient's side of the question "may this go out?"
// (consent.Service implements it).
type ConsentGate interface {
	Allowed(ctx context.Context, storyID, channel string, mediaIDs []string, nameUsage string) (bool, string, error)
	NameUsage(ctx context.Context, storyID string) (string, error)
}

// ApprovalGate adds legal's side to the patient's: a story may go out on a
// channel only if the approval of its current revision names that channel
// and its publish-not-before time has come, and then only if the consent
// allows it too. The website and every delivery ask it at request and send
// time, so both decisions are honoured at the moment of disclosure.
type ApprovalGate struct {
	Consent ConsentGate
	Stories *Service
}

// Allowed implements website.ConsentGate and export.ConsentGate.
func (g ApprovalGate) Allowed(ctx context.Context, storyID, channel string, mediaIDs []string, nameUsage string) (bool, string, error) {
	ap, err := g.Stories.Approval(ctx, storyID)
	if err != nil {
		return false, "", err
	}
	if ap == nil {
		return false, "Legal review has not approved the story's current revision.", nil
	}
	if !slices.Contains(ap.Channels, channel) {
		return false, "Legal review approved this story for " + strings.Join(channels.Labels(ap.Channels), ", ") + " only, not " + channels.Label(channel) + ".", nil
	}
	if ap.NotBefore != nil && time.Now().Before(*ap.NotBefore) {
		return false, "Legal review approved publication from " + ap.NotBefore.UTC().Format("2006-01-02 15:04") + " UTC, not before.", nil
	}
	return g.Consent.Allowed(ctx, storyID, channel, mediaIDs, nameUsage)
}

// NameUsage is the consent's name usage.
func (g ApprovalGate) NameUsage(ctx context.Context, storyID string) (string, error) {
	return g.Consent.NameUsage(ctx, storyID)
}

// AnswersFromDatabase implements disclosure.DatabaseGate when the consent
// side does: the approval is read from the database on every question.
func (g ApprovalGate) AnswersFromDatabase() bool {
	d, ok := g.Consent.(interface{ AnswersFromDatabase() bool })
	return ok && d.AnswersFromDatabase()
}
