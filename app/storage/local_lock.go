package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

var _ Retainer = (*Local)(nil)

// SetClock replaces the clock that retention dates are compared with, so
// tests can move past a retention date.
func (l *Local) SetClock(now func() time.Time) { l.now = now }

// WriteOnce implements Retainer: local disk always honours retention dates.
// It protects against mistakes and against anyone using Storykeep, not
// against someone with shell access to the data directory (docs/retention.md).
func (l *Local) WriteOnce(context.Context) WriteOnce {
	return WriteOnce{Active: true, Mode: ModeLocal}
}

// readMeta reads key's sidecar; callers hold mu.
func (l *Local) readMeta(key string) (localMeta, bool) {
	var m localMeta
	b, err := l.root.ReadFile(metaPath(key))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return localMeta{}, false
	}
	return m, true
}

// retainUntil is key's retention date from its sidecar; callers hold mu.
func (l *Local) retainUntil(key string) time.Time {
	if m, ok := l.readMeta(key); ok && m.RetainUntil != nil {
		return *m.RetainUntil
	}
	return time.Time{}
}

// Retain implements Retainer: the date goes in the object's sidecar, and the
// file and sidecar are made read-only (0444), so nothing writes to them by
// mistake. Delete and Put refuse the key until the date; a later date
// already set is kept.
func (l *Local) Retain(ctx context.Context, key string, until time.Time) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	until = until.UTC().Truncate(time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	name := filepath.FromSlash(key)
	fi, err := l.root.Stat(name)
	if err != nil {
		return l.fsErr("retain", key, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("storage: retain %q: %w", key, ErrNotFound)
	}
	m, ok := l.readMeta(key)
	if !ok {
		m = localMeta{ContentType: l.contentType(key)}
	}
	if m.RetainUntil == nil || until.After(*m.RetainUntil) {
		m.RetainUntil = &until
		b, _ := json.Marshal(m)
		tmp, err := l.writeTemp(strings.NewReader(string(b)))
		if err != nil {
			return fmt.Errorf("storage: retain %q: %w", key, err)
		}
		if err := l.rename(tmp, metaPath(key)); err != nil {
			l.root.Remove(tmp)
			return fmt.Errorf("storage: retain %q: %w", key, err)
		}
	}
	if err := l.root.Chmod(metaPath(key), 0o444); err != nil {
		return fmt.Errorf("storage: retain %q: %w", key, err)
	}
	if err := l.root.Chmod(name, 0o444); err != nil {
		return fmt.Errorf("storage: retain %q: %w", key, err)
	}
	return nil
}

// RetainedUntil implements Retainer.
func (l *Local) RetainedUntil(ctx context.Context, key string) (time.Time, error) {
	if err := ValidateKey(key); err != nil {
		return time.Time{}, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if _, err := l.root.Stat(filepath.FromSlash(key)); err != nil {
		return time.Time{}, l.fsErr("retention", key, err)
	}
	return l.retainUntil(key), nil
}
