// Package audit appends every significant action to a tamper-evident log:
// each entry's hash covers its own fields and the previous entry's hash, so an
// edited, removed or reordered row breaks the chain and Verify finds it. Every
// capability records through Record, inside its own transaction, so an action
// and its audit entry are stored together or not at all.
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
type Log struct{ db *gorm.DB }

// New returns the audit service over db.
func New(db *gorm.DB) *Log { return &Log{db: db} }

// Record appends e, attributed to the actor in ctx. Pass the caller's
// transaction as tx so the entry commits with the change it describes; nil
// runs a transaction of its own.
func (l *Log) Record(ctx context.Context, tx *gorm.DB, e Entry) error {
	if tx == nil {
		return l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return l.Record(ctx, tx, e) })
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
	tx = tx.WithContext(ctx)
	if tx.Dialector.Name() == "postgres" {
		// Serialise writers across replicas so the chain has one order.
		if err := tx.Exec("SELECT pg_advisory_xact_lock(724173)").Error; err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
	var last models.AuditEntry
	err := tx.Order("seq DESC").Limit(1).Find(&last).Error
	if err != nil {
		return fmt.Errorf("audit: reading chain head: %w", err)
	}
	a := ActorFrom(ctx)
	row := models.AuditEntry{
		Seq:        last.Seq + 1,
		At:         time.Now().UTC().Truncate(time.Microsecond),
		ActorID:    a.ID,
		Actor:      a.Label,
		Action:     e.Action,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		RequestID:  a.RequestID,
		IP:         a.IP,
		Details:    details,
		PrevHash:   last.Hash,
	}
	row.Hash = Hash(row)
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// RecordMany appends es in order in tx, attributed to the actor in ctx:
// the same chain Record would write one by one (each entry links to the
// one before), with the head read once and the rows inserted in batches.
// For bulk imports, whose changes are written in batches too.
func (l *Log) RecordMany(ctx context.Context, tx *gorm.DB, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	if tx == nil {
		return l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return l.RecordMany(ctx, tx, es) })
	}
	tx = tx.WithContext(ctx)
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(724173)").Error; err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
	var last models.AuditEntry
	if err := tx.Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return fmt.Errorf("audit: reading chain head: %w", err)
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
		rows[i] = models.AuditEntry{Seq: last.Seq + 1, At: at, ActorID: a.ID, Actor: a.Label, Action: e.Action, ObjectType: e.ObjectType,
			ObjectID: e.ObjectID, RequestID: a.RequestID, IP: a.IP, Details: details, PrevHash: last.Hash}
		rows[i].Hash = Hash(rows[i])
		last = rows[i]
	}
	if err := tx.CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Hash computes an entry's link: SHA-256 over the previous hash and a
// canonical JSON encoding of every other field (time as RFC 3339 in UTC with
// microseconds, the precision both databases keep).
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
	}{e.Seq, e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.RequestID, e.IP, e.Details}
	b, _ := json.Marshal(canon)
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// Break describes the first place the chain does not hold.
type Break struct {
	Seq    int64
	Reason string
}

// Report is the outcome of Verify.
type Report struct {
	Checked int64
	Head    string // hash of the last entry
	Broken  *Break
}

// Verify recomputes the whole chain in order and reports the first broken link.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	var rep Report
	prev := ""
	next := int64(1)
	for {
		var batch []models.AuditEntry
		if err := l.db.WithContext(ctx).Where("seq >= ?", next).Order("seq").Limit(1000).Find(&batch).Error; err != nil {
			return rep, err
		}
		for _, e := range batch {
			switch {
			case e.Seq != next:
				rep.Broken = &Break{Seq: next, Reason: fmt.Sprintf("entry %d is missing (next found is %d)", next, e.Seq)}
			case e.PrevHash != prev:
				rep.Broken = &Break{Seq: e.Seq, Reason: "previous-hash link does not match the entry before it"}
			case Hash(e) != e.Hash:
				rep.Broken = &Break{Seq: e.Seq, Reason: "entry content does not match its hash (edited after it was written)"}
			}
			if rep.Broken != nil {
				return rep, nil
			}
			prev, next = e.Hash, e.Seq+1
			rep.Checked++
		}
		if len(batch) < 1000 {
			rep.Head = prev
			return rep, nil
		}
	}
}

// Filter selects entries for the admin audit screen.
type Filter struct {
	ActorID    string
	Action     string
	ObjectType string
	ObjectID   string
	From, To   time.Time
	BeforeSeq  int64 // keyset cursor: entries older than this
	Limit      int
}

// List returns entries newest first matching f, and the cursor for the next page (0 when none).
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
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var rows []models.AuditEntry
	if err := q.Order("seq DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	var next int64
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = rows[len(rows)-1].Seq
	}
	return rows, next, nil
}
