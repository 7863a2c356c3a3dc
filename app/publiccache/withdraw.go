package publiccache

import (
	"context"

	"gorm.io/gorm"
)

// Withdrawal is a story whose public artefacts must leave every cache,
// shared ones (a CDN) included: it was withdrawn (the patient revoked, the
// consent expired, staff withdrew it) or archived.
type Withdrawal struct {
	StoryID string
	Slug    string
	// Reason is the stage the story moved to ("withdrawn", "archived");
	// Note is the transition's note ("The patient's consent ended
	// (revoked).").
	Reason, Note string
	// Paths are the site paths that showed the story: its page, its
	// images (every crop, with the versioned address), the index and its
	// tag pages, the feeds and the sitemap. URLs are the same, absolute.
	Paths, URLs []string
}

// WithdrawHook is told of a withdrawal inside the transaction that makes
// it (tx), so work it queues there (a purge job on the durable queue) is
// committed with the withdrawal or not at all. An error rolls the
// withdrawal back.
type WithdrawHook func(ctx context.Context, tx *gorm.DB, w Withdrawal) error

// OnWithdraw adds h to the hooks Withdrawn calls.
func (c *Cache) OnWithdraw(h WithdrawHook) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	c.hooks = append(c.hooks, h)
}

// Withdrawn is called by the website service inside the withdrawing
// transaction: this process's window opens at once (the story's rows
// changed), and every hook is told.
func (c *Cache) Withdrawn(ctx context.Context, tx *gorm.DB, w Withdrawal) error {
	if c == nil {
		return nil
	}
	c.LocalWrite()
	w.URLs = make([]string, len(w.Paths))
	for i, p := range w.Paths {
		w.URLs[i] = c.PublicURL + p
	}
	c.hooksMu.RLock()
	hooks := append([]WithdrawHook(nil), c.hooks...)
	c.hooksMu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, tx, w); err != nil {
			return err
		}
	}
	return nil
}
