package stories

import (
	"context"
	"sync"
	"time"
)

// choicesTTL is how long the list page's filter choices (tags) are reused.
// Computing them scans every tag row; a list page must not pay that on every
// request, and a new tag appearing in the filter a few seconds late harms
// nobody.
const choicesTTL = 30 * time.Second

// cached holds one value computed at most once per TTL, shared by all requests.
type cached[T any] struct {
	mu      sync.Mutex
	value   T
	expires time.Time
}

func (c *cached[T]) get(ctx context.Context, compute func(context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().Before(c.expires) {
		return c.value, nil
	}
	v, err := compute(ctx)
	if err != nil {
		return v, err
	}
	c.value, c.expires = v, time.Now().Add(choicesTTL)
	return v, nil
}
