// Package website is the public face of Storykeep: a story page per
// published story, an index with tags, Atom and JSON feeds and a sitemap.
// Nothing here is shown on the strength of a stored flag alone: every page,
// feed and image asks the consent gate at request time, because a patient
// may revoke at any moment and revocation must take effect at once.
//
// What a page, feed entry or image shows is not decided here: the
// disclosure package (app/disclosure) builds it from the story revision,
// the patient's choices and legal's approval; this package records
// publications and hands the disclosure's page to the web layer.
package website

import (
	"context"

	"github.com/storykeep/storykeep/app/disclosure"
)

// Channel is the consent channel key of the public website.
const Channel = disclosure.Website

// Name usages a patient can consent to; anything else is treated as no
// consent at all.
const (
	NameFull      = disclosure.NameFull
	NameFirst     = disclosure.NameFirst
	NameAnonymous = disclosure.NameAnonymous
)

// ConsentGate answers, at request time, what the patient currently allows.
// The consent capability implements it; until it is wired, DenyAll keeps the
// website empty.
//
// Allowed reports whether storyID may be shown on channel with nameUsage.
// With empty mediaIDs it asks about the story's text alone; the website
// then asks once per photo (mediaIDs of length one), so a patient can allow
// the story but not every picture. reason is for logs and staff screens,
// never shown publicly.
//
// NameUsage returns the consented usage (NameFull, NameFirst or
// NameAnonymous); "" or an error means no valid consent.
type ConsentGate interface {
	Allowed(ctx context.Context, storyID, channel string, mediaIDs []string, nameUsage string) (ok bool, reason string, err error)
	NameUsage(ctx context.Context, storyID string) (string, error)
}

// DenyAll is the gate before consent is wired: nothing is public.
type DenyAll struct{}

// Allowed always refuses.
func (DenyAll) Allowed(context.Context, string, string, []string, string) (bool, string, error) {
	return false, "no consent", nil
}

// NameUsage knows no consent, so no usage.
func (DenyAll) NameUsage(context.Context, string) (string, error) { return "", nil }
