package comments_test

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/comments"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestMentions(t *testing.T) {
	cases := map[string][]string{
		"@sam please check":                  {"sam"},
		"cc @Sam@Hospital.org, and @sam.":    {"sam@hospital.org", "sam"},
		"write to bob@hospital.org":          nil,
		"(@ana_b) and @ana_b again\n@lee-r.": {"ana_b", "lee-r"},
		"no mention @ here":                  nil,
	}
	for in, want := range cases {
		if got := comments.Mentions(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Mentions(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCreateNotifiesMentionedActiveUsers(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	keys, _ := crypto.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	log := audit.New(gdb)
	ctx := audit.WithActor(context.Background(), audit.System)
	us := users.New(gdb, log, keys, users.Limits{PerAccount: 5, PerIP: 50})
	mk := func(email string) *models.User {
		u, err := us.Create(ctx, users.NewUser{Email: email, Name: strings.Split(email, "@")[0], Role: models.RoleReviewer, Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	author, sam, lee, off := mk("author@hospital.test"), mk("sam@hospital.test"), mk("lee@a.test"), mk("off@hospital.test")
	mk("lee@b.test")
	if err := us.SetDisabled(ctx, off.ID, true); err != nil {
		t.Fatal(err)
	}
	svc := comments.New(gdb, log)
	posted, err := svc.Create(ctx, "story-1", author.ID, "@sam @lee @off @author @nobody @lee@a.test look")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range posted.Notified {
		ids = append(ids, u.ID)
	}
	if !reflect.DeepEqual(ids, []string{sam.ID, lee.ID}) || !reflect.DeepEqual(posted.Ambiguous, []string{"@lee"}) {
		t.Fatalf("notified %v ambiguous %v", ids, posted.Ambiguous)
	}
	inbox, err := svc.Inbox(ctx, sam.ID)
	if err != nil || len(inbox) != 1 || inbox[0].ActorName != "author" || inbox[0].StoryID != "story-1" {
		t.Fatalf("inbox: %+v %v", inbox, err)
	}
	if err := svc.MarkRead(ctx, lee.ID, inbox[0].ID); !errors.Is(err, comments.ErrNotificationNotFound) {
		t.Fatalf("someone else's notification: %v", err)
	}
	if err := svc.MarkRead(ctx, sam.ID, inbox[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.Unread(ctx, sam.ID); n != 0 {
		t.Fatalf("unread %d", n)
	}
	var fe users.FieldErrors
	if _, err := svc.Create(ctx, "story-1", author.ID, strings.Repeat("é", comments.MaxBody+1)); !errors.As(err, &fe) || !strings.Contains(fe["body"], "at most 5000") {
		t.Fatalf("too long: %v", err)
	}
	if _, err := svc.Create(ctx, "story-1", author.ID, strings.Repeat("é", comments.MaxBody)); err != nil {
		t.Fatalf("exactly 5000 characters: %v", err)
	}
	svc.StoryExists = func(context.Context, string) (bool, error) { return false, nil }
	if _, err := svc.Create(ctx, "gone", author.ID, "hi"); !errors.Is(err, comments.ErrStoryNotFound) {
		t.Fatalf("unknown story: %v", err)
	}
}
