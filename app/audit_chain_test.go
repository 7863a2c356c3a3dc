package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
)

// TestServeLinksTheAuditChainAndAnchorsIt: a running server links new
// audit entries by itself, links what was recorded up to its shutdown
// before Serve returns, and anchors the head in DATA_DIR/anchors.
func TestServeLinksTheAuditChainAndAnchorsIt(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) {
		c.ListenAddr = "127.0.0.1:0"
		c.AuditLinkInterval = 50 * time.Millisecond
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { served <- env.App.Serve(ctx, ready) }()
	select {
	case <-ready:
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	}
	bg := context.Background()
	if err := env.App.Audit.Record(bg, nil, audit.Entry{Action: "test.one", ObjectType: "test"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _, err := env.App.Audit.Unlinked(bg)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still unlinked: the server's linker does not run", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := env.App.Audit.Record(bg, nil, audit.Entry{Action: "test.last", ObjectType: "test"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	rep, err := env.App.Audit.Verify(bg)
	if err != nil || rep.Broken != nil || rep.Unlinked != 0 || rep.Checked < 2 {
		t.Fatalf("after shutdown: %+v %v", rep, err)
	}
	a, wrote, err := env.App.Anchorer.Anchor(bg, false)
	if err != nil || !wrote || a.Seq != rep.HeadSeq || filepath.Dir(a.Location) != filepath.Join(env.App.Config.DataDir, "anchors") {
		t.Fatalf("anchor: %+v %v %v", a, wrote, err)
	}
	if _, err := os.Stat(a.Location); err != nil {
		t.Fatal(err)
	}
}
