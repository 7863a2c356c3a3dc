package stories

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCachedServesTheOldValueWhileOneRefreshes: an expired value is
// recomputed by one caller while the others get the old one at once; a failed
// refresh keeps the old value and the next caller tries again.
func TestCachedServesTheOldValueWhileOneRefreshes(t *testing.T) {
	ctx := context.Background()
	var c cached[int]
	calls := 0
	if v, err := c.get(ctx, func(context.Context) (int, error) { calls++; return 1, nil }); v != 1 || err != nil {
		t.Fatalf("first value: %d, %v", v, err)
	}
	if v, _ := c.get(ctx, func(context.Context) (int, error) { calls++; return 2, nil }); v != 1 || calls != 1 {
		t.Fatalf("within the TTL: %d after %d computations", v, calls)
	}

	c.expires = time.Now().Add(-time.Second)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan int)
	go func() {
		v, _ := c.get(ctx, func(context.Context) (int, error) { close(started); <-release; return 2, nil })
		done <- v
	}()
	<-started
	if v, _ := c.get(ctx, func(context.Context) (int, error) { t.Error("a second refresh ran"); return 3, nil }); v != 1 {
		t.Fatalf("during the refresh: %d, want the old 1", v)
	}
	close(release)
	if v := <-done; v != 2 {
		t.Fatalf("the refresher got %d", v)
	}
	if v, _ := c.get(ctx, func(context.Context) (int, error) { return 9, nil }); v != 2 {
		t.Fatalf("after the refresh: %d, want 2", v)
	}

	c.expires = time.Now().Add(-time.Second)
	if _, err := c.get(ctx, func(context.Context) (int, error) { return 0, errors.New("down") }); err == nil {
		t.Fatal("a failed refresh reported no error")
	}
	if v, _ := c.get(ctx, func(context.Context) (int, error) { return 4, nil }); v != 4 {
		t.Fatalf("after a failed refresh the next caller got %d, want a new value", v)
	}

	c.expires = time.Now().Add(-time.Second)
	func() {
		defer func() { _ = recover() }()
		_, _ = c.get(ctx, func(context.Context) (int, error) { panic("query panicked") })
	}()
	if v, _ := c.get(ctx, func(context.Context) (int, error) { return 5, nil }); v != 5 {
		t.Fatalf("after a refresh that panicked the next caller got %d, want a new value", v)
	}
}
