package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrRetained is returned when an object is still under its retention date
// (write-once evidence, issue 24): it cannot be deleted or overwritten yet.
var ErrRetained = errors.New("storage: object is under retention")

// Lock modes. Compliance cannot be shortened or bypassed by anyone, not even
// the bucket's root account; governance can be bypassed by an account with
// s3:BypassGovernanceRetention. Local disk has its own mode.
const (
	ModeCompliance = "compliance"
	ModeGovernance = "governance"
	ModeLocal      = "local"
)

// WriteOnce says whether a store keeps objects write-once until a date.
type WriteOnce struct {
	Active bool
	Mode   string // compliance, governance or local; "" when not active
	// Why is a short reason when not active (bucket without Object Lock,
	// not reachable yet).
	Why string
}

// String is the line `storykeep config` and /readyz show.
func (w WriteOnce) String() string {
	if w.Active {
		return "active (" + w.Mode + ")"
	}
	if w.Why != "" {
		return "not active: " + w.Why
	}
	return "not active"
}

// Retainer is implemented by stores that can keep an object write-once
// until a date: S3 with Object Lock, and Local (read-only files and a date
// in the sidecar that Delete and Put honour).
type Retainer interface {
	// WriteOnce reports whether retention is enforced, and how.
	WriteOnce(ctx context.Context) WriteOnce
	// Retain keeps key write-once until until. A later date already set is
	// kept: retention is only ever extended, never shortened. When the store
	// is not write-once it does nothing and returns nil.
	Retain(ctx context.Context, key string, until time.Time) error
	// RetainedUntil is key's retention date, zero when it has none.
	RetainedUntil(ctx context.Context, key string) (time.Time, error)
}

func retainedErr(op, key string, until time.Time) error {
	return fmt.Errorf("storage: %s %q: %w until %s", op, key, ErrRetained, until.UTC().Format(time.RFC3339))
}
