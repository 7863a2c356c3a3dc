package interviews_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/interviews"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestScheduleValidateAndTransition(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	keys, _ := crypto.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	log := audit.New(gdb)
	ctx := audit.WithActor(context.Background(), audit.System)
	us := users.New(gdb, log, keys, users.Limits{PerAccount: 5, PerIP: 50})
	teller, err := us.Create(ctx, users.NewUser{Email: "t@hospital.test", Name: "T", Role: models.RoleStoryteller, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := us.Create(ctx, users.NewUser{Email: "p@hospital.test", Name: "P", Role: models.RolePublisher, Password: "correct horse battery staple"})
	p, err := patients.New(gdb, log, keys).Create(ctx, teller.ID, patients.Input{FullName: "Pat", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	svc := interviews.New(gdb, log)

	cases := []struct {
		name  string
		in    interviews.Input
		field string
	}{
		{"bad time", interviews.Input{InterviewerID: teller.ID, ScheduledAt: "tomorrow", Location: "Room 1"}, "scheduled_at"},
		{"no interviewer", interviews.Input{ScheduledAt: "2026-03-14T10:30", Location: "Room 1"}, "interviewer"},
		{"publisher cannot interview", interviews.Input{InterviewerID: pub.ID, ScheduledAt: "2026-03-14T10:30", Location: "Room 1"}, "interviewer"},
		{"nowhere", interviews.Input{InterviewerID: teller.ID, ScheduledAt: "2026-03-14T10:30"}, "location"},
	}
	for _, tc := range cases {
		var fe users.FieldErrors
		if _, err := svc.Schedule(ctx, p.ID, tc.in); !errors.As(err, &fe) || fe[tc.field] == "" {
			t.Errorf("%s: want %s error, got %v", tc.name, tc.field, err)
		}
	}
	iv, err := svc.Schedule(ctx, p.ID, interviews.Input{InterviewerID: teller.ID, ScheduledAt: "2026-03-14T10:30", Remote: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.ForInterviewer(ctx, teller.ID); len(got) != 1 || got[0].ScheduledAt.Format(interviews.TimeLayout) != "2026-03-14T10:30" {
		t.Fatalf("mine: %+v", got)
	}
	if err := svc.UpdateNotes(ctx, iv.ID, "Talked about recovery."); err != nil {
		t.Fatal(err)
	}
	if err := svc.Transition(ctx, iv.ID, models.InterviewCompleted); err != nil {
		t.Fatal(err)
	}
	err = svc.Transition(ctx, iv.ID, models.InterviewCancelled)
	if e, ok := apperr.As(err); !ok || e.Status != 409 || !strings.Contains(e.Msg, "already completed") {
		t.Fatalf("completed -> cancelled: %v", err)
	}
	if err := svc.Transition(ctx, "nope", models.InterviewCompleted); !errors.Is(err, interviews.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	var n int64
	gdb.Model(&models.AuditEntry{}).Where("object_type = 'interview'").Count(&n)
	if n != 3 {
		t.Fatalf("want schedule, notes, complete audited; got %d entries", n)
	}
}
