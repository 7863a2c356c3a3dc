package stories

import (
	"context"
	"errors"
	"sync/atomic"
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

// TestPlansComputeOnceAtATime: requests asking for an answer being computed
// wait for that one computation; once it expires one request refreshes it
// while the others get the old answer at once; a refresh that fails or
// panics keeps the old answer and the next request tries again; a request
// that leaves while waiting gets its own context's error, and the answer is
// still kept.
func TestPlansComputeOnceAtATime(t *testing.T) {
	ctx := context.Background()
	var p plans
	var calls atomic.Int32
	release := make(chan struct{})
	slow := func(answer bool) func(context.Context) (bool, error) {
		return func(context.Context) (bool, error) { calls.Add(1); <-release; return answer, nil }
	}
	results := make(chan bool, 5)
	for range 5 {
		go func() { v, _ := p.remember(ctx, "k", slow(true)); results <- v }()
	}
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others reach the computation
	close(release)
	for range 5 {
		if !<-results {
			t.Fatal("a waiting request got no answer")
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("5 requests at once computed the answer %d times, want 1", n)
	}

	expire := func() {
		p.mu.Lock()
		e := p.m["k"]
		e.expires = time.Now().Add(-time.Second)
		p.m["k"] = e
		p.mu.Unlock()
	}
	expire()
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan bool)
	go func() {
		v, _ := p.remember(ctx, "k", func(context.Context) (bool, error) { close(started); <-release; return false, nil })
		done <- v
	}()
	<-started
	if v, _ := p.remember(ctx, "k", func(context.Context) (bool, error) { t.Error("a second refresh ran"); return false, nil }); !v {
		t.Fatal("during the refresh another request did not get the old answer")
	}
	close(release)
	if v := <-done; v {
		t.Fatal("the refresher did not get the new answer")
	}

	for name, fail := range map[string]func(context.Context) (bool, error){
		"fails":  func(context.Context) (bool, error) { return false, errors.New("down") },
		"panics": func(context.Context) (bool, error) { panic("query panicked") },
	} {
		expire()
		if _, err := p.remember(ctx, "k", fail); err == nil {
			t.Fatalf("a refresh that %s reported no error", name)
		}
		if v, _ := p.remember(ctx, "k", func(context.Context) (bool, error) { return true, nil }); !v {
			t.Fatalf("after a refresh that %s the next request did not compute anew", name)
		}
	}

	leaving, cancel := context.WithCancel(ctx)
	release = make(chan struct{})
	errc := make(chan error)
	go func() {
		_, err := p.remember(leaving, "new", func(c context.Context) (bool, error) { <-release; return true, c.Err() })
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("a request that left got %v, want its context's error", err)
	}
	close(release)
	for {
		p.mu.Lock()
		e, ok := p.m["new"]
		p.mu.Unlock()
		if ok {
			if !e.answer {
				t.Fatal("the answer computed for a request that left was not kept")
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
}
