package users_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// TestInvitationLinkIsSpentOnce: of several concurrent uses of one link
// exactly one sets the password; the rest get ErrLinkInvalid.
func TestInvitationLinkIsSpentOnce(t *testing.T) {
	s := newService(t)
	ctx := audit.WithActor(context.Background(), audit.System)
	u, token, err := s.Invite(ctx, users.NewUser{Email: "new@hospital.test", Name: "New", Role: models.RoleReviewer}, time.Hour)
	if err != nil || u.PasswordHash != "" || len(token) < 43 {
		t.Fatalf("%+v %q %v", u, token, err)
	}
	var wg sync.WaitGroup
	results := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UseLink(ctx, models.LinkInvite, token, "a perfectly fine passphrase")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, users.ErrLinkInvalid):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d uses succeeded, want 1", ok)
	}
	// A reset link is not an invitation link.
	if _, err := s.LinkUser(ctx, models.LinkReset, token); !errors.Is(err, users.ErrLinkInvalid) {
		t.Fatal("a link of one purpose must not work for another")
	}
}
