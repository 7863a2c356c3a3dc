package workflow

import (
	"context"

	"gorm.io/gorm"
)

// MultiHooks lets several capabilities (consent, the website, exports)
// hear the same lifecycle events. Each runs in order inside the caller's
// transaction; the first error stops the rest and undoes the change.
type MultiHooks []Hooks

// Transitioned tells every hook.
func (m MultiHooks) Transitioned(ctx context.Context, tx *gorm.DB, ev TransitionEvent) error {
	for _, h := range m {
		if err := h.Transitioned(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// ConsentSuperseded tells every hook.
func (m MultiHooks) ConsentSuperseded(ctx context.Context, tx *gorm.DB, ev ConsentSuperseded) error {
	for _, h := range m {
		if err := h.ConsentSuperseded(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}
