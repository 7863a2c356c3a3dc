package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/demo"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/website"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// demoPublish takes n new demo stories the whole way through the real
// services: the patient (verified by date of birth) signs consent to the
// website with first name only, a reviewer acknowledges the PHI findings
// and approves, a publisher publishes. One more story is left waiting for
// the patient, and its consent link is printed, for the load test of the
// consent landing page (scripts/loadtest-public.sh).
func demoPublish(ctx context.Context, a *app.App, teller *models.User, run string, n int, stdout io.Writer) error {
	staff := func(role string) (*models.User, error) {
		return a.Users.GetByEmail(ctx, role+"@"+demo.Domain) // made by demo.Run
	}
	reviewer, err := staff(models.RoleReviewer)
	if err != nil {
		return err
	}
	publisher, err := staff(models.RolePublisher)
	if err != nil {
		return err
	}
	author := workflow.Actor{UserID: teller.ID, Role: teller.Role}
	review := workflow.Actor{UserID: reviewer.ID, Role: reviewer.Role}
	publish := workflow.Actor{UserID: publisher.ID, Role: publisher.Role}
	const dob = "1980-01-02"
	expires := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	newStory := func(i int) (*models.Story, string, *consent.Sent, error) {
		name := stories.DemoPatientName(i + 7)
		p, err := a.Patients.Create(ctx, teller.ID, patients.Input{FullName: name, DOB: dob, Language: "en"})
		if err != nil {
			return nil, "", nil, fmt.Errorf("demo patient: %w", err)
		}
		in := stories.DemoInput(run+"p", i, teller.ID, p.ID, name)
		in.Channels, in.Copy = []string{website.Channel}, nil
		st, err := a.Stories.Create(ctx, author, in)
		if err != nil {
			return nil, "", nil, err
		}
		sent, err := a.Consent.Send(ctx, author, st.ID, consent.SendInput{SignerKind: "patient", Channels: []string{website.Channel},
			NameUsage: "first_name", Language: "en", LinkDays: 14})
		return st, name, sent, err
	}
	for i := 0; i < n; i++ {
		st, name, sent, err := newStory(i)
		if err != nil {
			return err
		}
		r := sent.Request
		if err := a.Consent.VerifyDOB(ctx, r, dob, "127.0.0.1"); err != nil {
			return fmt.Errorf("demo identity check: %w", err)
		}
		if r, err = a.Consent.Find(ctx, sent.Token); err != nil {
			return err
		}
		in := consent.SignInput{Channels: []string{website.Channel}, NameUsage: "first_name", ExpiresOn: expires, EsignAgreed: true,
			TypedName: name, TypedSignature: name, IP: "127.0.0.1", UserAgent: "storykeep demo"}
		fin, err := a.Consent.Final(ctx, r, in)
		if err != nil {
			return fmt.Errorf("demo consent: %w", err)
		}
		in.AuthSHA256 = fin.SHA256
		if _, err := a.Consent.Sign(ctx, r, in); err != nil {
			return fmt.Errorf("demo signature: %w", err)
		}
		if _, err := a.Stories.Transition(ctx, author, st.ID, workflow.InReview, "", 0); err != nil {
			return err
		}
		cur, err := a.Stories.Get(ctx, st.ID)
		if err != nil {
			return err
		}
		scans, err := a.Stories.Scan(ctx, cur)
		if err != nil {
			return err
		}
		var prints []string
		for _, f := range scans {
			for _, x := range f.Findings {
				prints = append(prints, x.Fingerprint)
			}
		}
		if len(prints) > 0 {
			if _, err := a.Stories.Acknowledge(ctx, review, st.ID, cur.Revision, prints); err != nil {
				return err
			}
		}
		if _, err := a.Stories.Approve(ctx, review, st.ID, cur.Revision, "Demo approval.", stories.ApprovalInput{Channels: []string{website.Channel}}); err != nil {
			return fmt.Errorf("demo approval: %w", err)
		}
		if _, err := a.Stories.Transition(ctx, publish, st.ID, workflow.Published, "", 0); err != nil {
			return fmt.Errorf("demo publication: %w", err)
		}
		var pub models.WebsitePublication
		if err := a.DB.Where("story_id = ?", st.ID).Take(&pub).Error; err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published: /p/%s\n", pub.Slug)
	}
	_, _, sent, err := newStory(n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "consent link: /c/%s\n", sent.Token)
	// The certificates and emails the signatures queued are made now, so
	// a load test that follows measures the pages, not the queue.
	for {
		ran, err := a.Jobs.RunOnce(ctx)
		if err != nil {
			return fmt.Errorf("demo jobs: %w", err)
		}
		if !ran {
			return nil
		}
	}
}
