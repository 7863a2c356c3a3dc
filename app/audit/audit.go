// Package audit appends every significant action to a tamper-evident log.
// Every capability records through Record, inside its own transaction, so an
// action and its audit entry are stored together or not at all.
//
// Entries are appended unlinked, under the table's sequence, so writers on
// many replicas never wait for each other. One chaining job (Link, run by
// the leader every few seconds) then gives each entry its place in the
// chain (seq) and its hash, which covers its own fields and the previous
// entry's hash; Verify finds an edited, removed or reordered entry. Anchors
// (anchor.go) write the chain head outside the database every few minutes,
// so even someone who can rewrite the database cannot shorten or recompute
// the chain unnoticed. docs/audit.md says what this guarantees.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/models"
)

// Actor is who did something: a staff user, a patient (by consent request) or
// the system. Web middleware puts it in the request context.
type Actor struct {
	ID        string // user id, "system", or "patient:<request id>"
	Label     string // email or a role word; never a patient's name
	IP        string
	RequestID string
}

// System is the actor for background work and commands.
var System = Actor{ID: "system", Label: "system"}

type actorKey struct{}

// WithActor returns ctx carrying the actor that Record will attribute entries to.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or System.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}

// Entry is what a caller records. Details must not carry patient details in
// clear: record ids, counts and field names, not names or contact details.
type Entry struct {
	Action     string // e.g. "user.create", "session.login_failed"
	ObjectType string // e.g. "user", "story"
	ObjectID   string
	Details    map[string]any
}

// Log is the audit service.
type Log struct {
	db *gorm.DB
	linkState
}

// New returns the audit service over db.
func New(db *gorm.DB) *Log { return &Log{db: db, linkState: linkState{kick: make(chan struct{}, 1)}} }

// Record appends e, attributed to the actor in ctx. Pass the caller's
// transaction as tx so the entry commits with the change it describes; nil
// runs a transaction of its own. The entry is appended unlinked: it takes
// no lock and reads nothing, and the chaining job (Link) gives it its place
// in the chain within seconds of its commit.
func (l *Log) Record(ctx context.Context, tx *gorm.DB, e Entry) error {
	if tx == nil {
		tx = l.db
	}
	if e.Action == "" || e.ObjectType == "" {
		return errors.New("audit: action and object type are required")
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit: details: %w", err)
		}
		details = string(b)
	}
	a := ActorFrom(ctx)
	row := models.AuditEntry{
		At:         time.Now().UTC().Truncate(time.Microsecond),
		ActorID:    a.ID,
		Actor:      a.Label,
		Action:     e.Action,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		RequestID:  a.RequestID,
		IP:         a.IP,
		Details:    details,
	}
	if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// RecordMany appends es in order in tx, attributed to the actor in ctx, as
// Record would one by one: unlinked, in id order, inserted in batches; the
// chaining job links them like any other entries. For bulk imports, whose
// changes are written in batches too.
func (l *Log) RecordMany(ctx context.Context, tx *gorm.DB, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	if tx == nil {
		return l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return l.RecordMany(ctx, tx, es) })
	}
	a := ActorFrom(ctx)
	at := time.Now().UTC().Truncate(time.Microsecond)
	rows := make([]models.AuditEntry, len(es))
	for i, e := range es {
		if e.Action == "" || e.ObjectType == "" {
			return errors.New("audit: action and object type are required")
		}
		details := "{}"
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return fmt.Errorf("audit: details: %w", err)
			}
			details = string(b)
		}
		rows[i] = models.AuditEntry{At: at, ActorID: a.ID, Actor: a.Label, Action: e.Action, ObjectType: e.ObjectType,
			ObjectID: e.ObjectID, RequestID: a.RequestID, IP: a.IP, Details: details}
	}
	if err := tx.WithContext(ctx).CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Hash computes an entry's link: SHA-256 over the previous hash and a
// canonical JSON encoding of the entry's chain position (seq) and every
// recorded field (time as RFC 3339 in UTC with microseconds, the precision
// both databases keep). The id, the order of arrival, is not part of it.
// The formula is the one entries were chained with before chaining moved
// to Link, so entries from before the upgrade verify unchanged.
func Hash(e models.AuditEntry) string {
	canon := struct {
		Seq        int64  `json:"seq"`
		At         string `json:"at"`
		ActorID    string `json:"actor_id"`
		Actor      string `json:"actor"`
		Action     string `json:"action"`
		ObjectType string `json:"object_type"`
		ObjectID   string `json:"object_id"`
		RequestID  string `json:"request_id"`
		IP         string `json:"ip"`
		Details    string `json:"details"`
	}{deref(e.Seq), e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.RequestID, e.IP, e.Details}
	b, _ := json.Marshal(canon)
	h := sha256.New()
	h.Write([]byte(deref(e.PrevHash)))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Filter selects entries for the admin audit screen.
type Filter struct {
	ActorID    string
	Action     string
	ObjectType string
	ObjectID   string
	From, To   time.Time
	BeforeID   int64 // keyset cursor: entries that arrived before this one
	Limit      int
}

// List returns entries newest first (in order of arrival, linked or not) matching f, and the cursor for the next page (0 when none).
func (l *Log) List(ctx context.Context, f Filter) ([]models.AuditEntry, int64, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := l.db.WithContext(ctx).Model(&models.AuditEntry{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action LIKE ?", f.Action+"%")
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var rows []models.AuditEntry
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	var next int64
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = rows[len(rows)-1].ID
	}
	return rows, next, nil
}
