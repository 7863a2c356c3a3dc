package users_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/users"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newService(t *testing.T) *users.Service {
	gdb, _ := dbtest.Open(t)
	keys, err := crypto.LoadOrCreate("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return users.New(gdb, audit.New(gdb), keys, users.Limits{PerAccount: 5, PerIP: 3, Window: time.Minute})
}

func TestFirstAdminOnlyOnce(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	pw, err := s.EnsureFirstAdmin(ctx, "Admin@Hospital.test")
	if err != nil || pw == "" {
		t.Fatalf("%q %v", pw, err)
	}
	u, err := s.Authenticate(ctx, "admin@hospital.test", pw, "192.0.2.1")
	if err != nil || u.Role != "admin" || !u.MustChangePassword {
		t.Fatalf("%+v %v", u, err)
	}
	again, err := s.EnsureFirstAdmin(ctx, "admin@hospital.test")
	if err != nil || again != "" {
		t.Fatalf("second start must not create or print anything: %q %v", again, err)
	}
}

func TestPerIPThrottleAcrossAccounts(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for i, email := range []string{"a@x.test", "b@x.test", "c@x.test"} {
		if _, err := s.Authenticate(ctx, email, "wrong password", "198.51.100.7"); err == nil || !strings.Contains(err.Error(), "do not match") {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := s.Authenticate(ctx, "d@x.test", "wrong password", "198.51.100.7")
	if err == nil || !strings.Contains(err.Error(), "Too many failed sign-in attempts") {
		t.Fatalf("fourth attempt from one IP must be throttled: %v", err)
	}
	if _, err := s.Authenticate(ctx, "d@x.test", "wrong password", "198.51.100.8"); err == nil || strings.Contains(err.Error(), "Too many") {
		t.Fatalf("another IP is not throttled: %v", err)
	}
}
