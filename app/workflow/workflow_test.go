package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/models"
)

func TestAvailableFollowsTheTable(t *testing.T) {
	e := New(nil)
	story := Story{ID: "s", Stage: InReview, AuthorIDs: []string{"author"}, Channels: []string{"website"}}
	names := func(ts []Transition) string {
		var out []string
		for _, t := range ts {
			out = append(out, string(t.To))
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		a    Actor
		want string
	}{
		{Actor{UserID: "r", Role: models.RoleReviewer}, "approved,changes_requested,archived"},
		{Actor{UserID: "author", Role: models.RoleReviewer}, ""},
		{Actor{UserID: "author", Role: models.RoleStoryteller}, "archived"},
		{Actor{UserID: "x", Role: models.RoleStoryteller}, ""},
		{Actor{UserID: "p", Role: models.RolePublisher}, ""},
		{Actor{UserID: "a", Role: models.RoleAdmin}, "archived"},
	} {
		if got := names(e.Available(tc.a, story)); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.a, got, tc.want)
		}
	}
	if _, err := e.Check(context.Background(), Actor{UserID: "r", Role: models.RoleReviewer}, story, Approved); err == nil || !strings.Contains(err.Error(), "No signed consent") {
		t.Fatalf("approval without consent: %v", err)
	}
	story.Stage = Archived
	if _, err := e.Check(context.Background(), Actor{Role: models.RoleAdmin}, story, Drafting); err == nil || !strings.Contains(err.Error(), "Nothing can happen") {
		t.Fatalf("archived: %v", err)
	}
}
