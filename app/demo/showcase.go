package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Showcase is what the staged part of the demo made: a story (or two) at
// each stage, and where a newcomer can see each one.
type Showcase struct {
	// Stories by stage, in the order made.
	Stories map[workflow.Stage][]Story
	// ConsentLink is the live consent link of the story awaiting consent,
	// and ConsentDOB the date of birth that opens it (YYYY-MM-DD).
	ConsentLink, ConsentDOB string
	// Certificate is a signed consent record with its sealed certificate.
	Certificate string
	// Clicks is how many short-link clicks were counted.
	Clicks int
}

// Story is one showcase story.
type Story struct {
	ID, Title, Slug string
}

// ip is the address the demo's patient actions are recorded from.
const ip = "127.0.0.1"

type showcase struct {
	a                          *app.App
	ctx                        context.Context
	teller, reviewer, pub      *models.User
	run                        string
	photo                      int
	out                        *Showcase
	tellerCtx, revCtx, pubCtx  context.Context
	tellerAct, revAct, pubAct  workflow.Actor
	patientsByName             map[string]person
	stageOrder                 []workflow.Stage
	consentSent, consentSigned int
}

type person struct {
	ID, Name, First, DOB, Lang string
}

// spec is one showcase story: who it is about, its words and channels,
// its photos (alt texts), and the stage it is taken to.
type spec struct {
	patient, title, summary, body, tags string
	channels                            []string
	copy                                map[string]string
	photos                              []string
	usage                               string
	stage                               workflow.Stage
}

func makeShowcase(ctx context.Context, a *app.App, staff map[string]Account) (*Showcase, error) {
	s := &showcase{a: a, ctx: ctx, teller: staff["storyteller"].User, reviewer: staff["reviewer"].User, pub: staff["publisher"].User,
		run: strconv.FormatInt(time.Now().Unix()%100000, 10), out: &Showcase{Stories: map[workflow.Stage][]Story{}}, patientsByName: map[string]person{}}
	as := func(u *models.User) (context.Context, workflow.Actor) {
		return audit.WithActor(ctx, audit.Actor{ID: u.ID, Label: u.Email, IP: ip}), workflow.Actor{UserID: u.ID, Role: u.Role}
	}
	s.tellerCtx, s.tellerAct = as(s.teller)
	s.revCtx, s.revAct = as(s.reviewer)
	s.pubCtx, s.pubAct = as(s.pub)
	for _, p := range showcasePatients {
		pt, err := a.Patients.Create(s.tellerCtx, s.teller.ID, patients.Input{FullName: p.Name, PreferredName: p.First, DOB: p.DOB, Language: p.Lang})
		if err != nil {
			return nil, fmt.Errorf("patient: %w", err)
		}
		p.ID = pt.ID
		s.patientsByName[p.Name] = p
	}
	for _, sp := range showcaseStories {
		if err := s.make(sp); err != nil {
			return nil, fmt.Errorf("%q (%s): %w", sp.title, sp.stage, err)
		}
	}
	return s.out, nil
}

var showcasePatients = []person{
	{Name: "Maria Lopez", First: "Maria", DOB: "1984-07-21", Lang: "en"},
	{Name: "James Okafor", First: "James", DOB: "1957-03-02", Lang: "en"},
	{Name: "Aiko Tanaka", First: "Aiko", DOB: "1991-11-30", Lang: "en"},
	{Name: "Rosa Hernandez", First: "Rosa", DOB: "1968-05-14", Lang: "es"},
	{Name: "Liam Murphy", First: "Liam", DOB: "1979-09-09", Lang: "en"},
	{Name: "Fatima Haddad", First: "Fatima", DOB: "1988-01-17", Lang: "en"},
	{Name: "Noah Schmidt", First: "Noah", DOB: "1972-12-03", Lang: "en"},
	{Name: "Grace Mensah", First: "Grace", DOB: "1995-06-25", Lang: "en"},
	{Name: "Omar Ali", First: "Omar", DOB: "1963-08-08", Lang: "en"},
	{Name: "Elena Rossi", First: "Elena", DOB: "1981-04-12", Lang: "en"},
}

func para(ss ...string) string { return strings.Join(ss, "\n\n") + "\n" }

var showcaseStories = []spec{
	{patient: "Liam Murphy", title: "Liam's long road back to the pitch", stage: workflow.Interview, channels: []string{"website"}},
	{patient: "Elena Rossi", title: "Elena's garden of thanks", stage: workflow.Drafting, channels: []string{"website", "instagram"},
		summary: "A patient plants a garden for the ward that cared for her.", tags: "volunteers, oncology",
		body: para("## A gift that grows", "After her treatment ended, Elena wanted to give something back. She chose the courtyard outside the day unit.", "Volunteers joined her every Saturday; by spring the first tulips were up."),
		copy: map[string]string{"instagram": "A garden of thanks, planted by a former patient and our volunteers. #gratitude"}, photos: []string{"Tulips in the courtyard garden"}},
	{patient: "Omar Ali", title: "Omar and the night shift", stage: workflow.Drafting, channels: []string{"website", "linkedin"},
		summary: "The night nurses who got Omar through his first week.", tags: "nursing",
		body: para("## Three in the morning", "Omar remembers the night nurses best: the quiet voices, the warm blankets, the jokes at three in the morning.")},
	{patient: "Maria Lopez", title: "Maria walks again", stage: workflow.AwaitingConsent, channels: []string{"website", "facebook", "instagram"}, usage: "first_name",
		summary: "After a spinal injury, Maria took her first steps in the rehabilitation gym.", tags: "rehabilitation, orthopaedics",
		body:   para("## First steps", "Six weeks after her accident, Maria stood up between the parallel bars and took four steps.", "\"I cried, the physiotherapist cried, everyone cried,\" Maria says. Today she walks to the bakery every morning."),
		copy:   map[string]string{"facebook": "Six weeks after a spinal injury, Maria walked again. Read her story.", "instagram": "Four steps that changed everything. #rehabilitation"},
		photos: []string{"Maria between the parallel bars in the rehabilitation gym", "Maria walking in the hospital garden"}},
	{patient: "Rosa Hernandez", title: "Rosa vuelve a cantar", stage: workflow.ConsentDeclined, channels: []string{"website"}, usage: "first_name",
		summary: "Rosa, a choir singer, recovers her voice after thyroid surgery.", tags: "surgery",
		body: para("## La voz de Rosa", "Rosa sang in her church choir for thirty years. After thyroid surgery she worked with our speech therapists for months.")},
	{patient: "James Okafor", title: "James and his new heart", stage: workflow.Consented, channels: []string{"website", "x"}, usage: "full",
		summary: "A transplant, a long wait, and a grandson's first birthday.", tags: "transplant, cardiology",
		body: para("## The call", "James waited eleven months for the phone call. The transplant team met him at the door.", "This summer he held his grandson at the boy's first birthday party."),
		copy: map[string]string{"x": "James waited 11 months for a new heart. This summer he held his grandson."}, photos: []string{"James smiling on a hill at sunset"}},
	{patient: "Aiko Tanaka", title: "Aiko's marathon, one year after surgery", stage: workflow.InReview, channels: []string{"website", "bluesky"}, usage: "full",
		summary: "A year after heart surgery, Aiko Tanaka ran the city marathon.", tags: "cardiology, rehabilitation",
		body: para("## From the ward to the start line", "Aiko Tanaka was admitted on 3 March 2025 with chest pain. Her surgeon, Dr. Patel, repaired the valve the next day.",
			"Aiko kept a diary on the ward; her brother called every evening at 555-0142.", "On 12 April 2026 Aiko crossed the finish line in four hours and eight minutes."),
		copy: map[string]string{"bluesky": "One year after heart surgery, Aiko ran the city marathon."}, photos: []string{"A runner's view of the hills on the marathon route"}},
	{patient: "Fatima Haddad", title: "Fatima's twins come home", stage: workflow.ChangesRequested, channels: []string{"website"}, usage: "first_name",
		summary: "Born at 29 weeks, Fatima's twins went home after ten weeks in neonatal care.", tags: "maternity, paediatrics",
		body: para("## Ten weeks", "Fatima's twins were born at 29 weeks and spent ten weeks in the neonatal unit.", "The nurses taught Fatima kangaroo care on the first night.")},
	{patient: "Noah Schmidt", title: "Noah's stroke recovery, in his own words", stage: workflow.Approved, channels: []string{"website", "linkedin"}, usage: "first_name",
		summary: "Noah relearned to speak and write after a stroke.", tags: "neurology, rehabilitation",
		body: para("## Words, one at a time", "After his stroke Noah could not find the word for \"cup\". His speech therapist started with pictures.",
			"Eight months later Noah wrote this story himself."),
		copy: map[string]string{"linkedin": "Eight months after a stroke, Noah wrote his own story. Thank you to our speech and language therapy team."}, photos: []string{"A quiet lake at dawn, Noah's favourite walk"}},
	{patient: "Grace Mensah", title: "Grace finishes college after cancer", stage: workflow.Published, channels: []string{"website", "facebook", "instagram", "linkedin"}, usage: "first_name",
		summary: "Treated for leukaemia at nineteen, Grace graduated this summer.", tags: "oncology, paediatrics",
		body: para("## Nineteen", "Grace was in her first year of college when the tiredness began. The diagnosis came a week later.",
			"Through two years of treatment she studied on the ward, and this summer she graduated with honours.", "\"The nurses quizzed me before every exam,\" Grace says."),
		copy: map[string]string{"facebook": "Treated for leukaemia at nineteen, Grace graduated this summer. Read her story.",
			"instagram": "Grace studied through two years of treatment and graduated with honours. #oncology",
			"linkedin":  "Grace studied through two years of leukaemia treatment and graduated with honours. Our teenage and young adult cancer team is proud of her."},
		photos: []string{"Grace's view of the hills from the ward window", "The path to the college where Grace graduated"}},
	{patient: "Maria Lopez", title: "Maria's first year back at work", stage: workflow.Published, channels: []string{"website", "x"}, usage: "first_name",
		summary: "A year after her spinal injury, Maria is back teaching.", tags: "rehabilitation",
		body: para("## Back in the classroom", "Maria's pupils made a banner for her first day back.", "She still does her exercises every morning before school."),
		copy: map[string]string{"x": "A year after her spinal injury, Maria is back teaching. Read her story."}, photos: []string{"The school garden in autumn"}},
	{patient: "Liam Murphy", title: "Liam's rugby comeback", stage: workflow.Withdrawn, channels: []string{"website", "facebook"}, usage: "full",
		summary: "Liam returned to rugby after knee reconstruction.", tags: "orthopaedics",
		body: para("## Back on the pitch", "Liam tore his knee ligament in a cup final. Nine months later he played again."),
		copy: map[string]string{"facebook": "Nine months after knee surgery, Liam is back on the rugby pitch."}, photos: []string{"The rugby pitch under evening floodlights"}},
}

// make creates one showcase story and takes it to its stage, each step
// through the service a person's action would go through.
func (s *showcase) make(sp spec) error {
	p := s.patientsByName[sp.patient]
	in := stories.Input{Title: sp.title, Slug: stories.Slugify(sp.title) + "-" + s.run, Summary: sp.summary, Body: sp.body, Tags: sp.tags,
		Channels: sp.channels, Copy: sp.copy, OwnerID: s.teller.ID, PatientID: p.ID}
	st, err := s.a.Stories.Create(s.tellerCtx, s.tellerAct, in)
	if err != nil {
		return err
	}
	var media []string
	for _, alt := range sp.photos {
		id, err := s.addPhoto(st.ID, alt)
		if err != nil {
			return err
		}
		media = append(media, id)
	}
	if err := s.runJobs(); err != nil { // renditions
		return err
	}
	rec := &Story{ID: st.ID, Title: st.Title}
	defer func() { s.out.Stories[sp.stage] = append(s.out.Stories[sp.stage], *rec) }()
	if sp.stage == workflow.Interview || sp.stage == workflow.Drafting {
		return nil
	}
	// Staff ask the patient for consent for every channel and photo.
	sent, err := s.a.Consent.Send(s.tellerCtx, s.tellerAct, st.ID, consent.SendInput{SignerKind: "patient", Channels: sp.channels, MediaIDs: media,
		NameUsage: sp.usage, Language: p.Lang, LinkDays: 14})
	if err != nil {
		return fmt.Errorf("asking for consent: %w", err)
	}
	if sp.stage == workflow.AwaitingConsent {
		if s.out.ConsentLink == "" {
			s.out.ConsentLink, s.out.ConsentDOB = sent.Link, p.DOB
		}
		return s.runJobs()
	}
	// The patient opens the link, proves who they are and decides.
	r, err := s.a.Consent.Find(s.ctx, sent.Token)
	if err != nil {
		return err
	}
	if err := s.a.Consent.MarkOpened(s.ctx, r, ip); err != nil {
		return err
	}
	if err := s.a.Consent.VerifyDOB(s.ctx, r, p.DOB, ip); err != nil {
		return fmt.Errorf("identity check: %w", err)
	}
	if sp.stage == workflow.ConsentDeclined {
		return s.a.Consent.Decline(s.ctx, r, "I would rather keep this private for now.", ip)
	}
	sign := consent.SignInput{Channels: sp.channels, MediaIDs: media, NameUsage: sp.usage, ExpiresOn: time.Now().AddDate(1, 0, 0).Format("2006-01-02"),
		EsignAgreed: true, TypedName: p.Name, TypedSignature: p.Name, IP: ip, UserAgent: "storykeep demo", EsignLanguage: p.Lang}
	fin, err := s.a.Consent.Final(s.ctx, r, sign)
	if err != nil {
		return fmt.Errorf("final authorization: %w", err)
	}
	sign.AuthSHA256 = fin.SHA256
	signed, err := s.a.Consent.Sign(s.ctx, r, sign)
	if err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	if err := s.runJobs(); err != nil { // the sealed certificate
		return err
	}
	if s.out.Certificate == "" {
		s.out.Certificate = signed.ID
	}
	if sp.stage == workflow.Consented {
		return nil
	}
	if _, err := s.a.Stories.Transition(s.tellerCtx, s.tellerAct, st.ID, workflow.InReview, "", 0); err != nil {
		return err
	}
	if sp.stage == workflow.InReview {
		return s.runJobs()
	}
	if sp.stage == workflow.ChangesRequested {
		_, err := s.a.Stories.Transition(s.revCtx, s.revAct, st.ID, workflow.ChangesRequested, "Please check the dates with the neonatal team before we go further.", 0)
		return errors(err, s.runJobs())
	}
	// Legal review: every PHI finding acknowledged, then approved.
	cur, err := s.a.Stories.Get(s.ctx, st.ID)
	if err != nil {
		return err
	}
	scans, err := s.a.Stories.Scan(s.revCtx, cur)
	if err != nil {
		return err
	}
	var fps []string
	for _, f := range scans {
		for _, x := range f.Findings {
			fps = append(fps, x.Fingerprint)
		}
	}
	if len(fps) > 0 {
		if _, err := s.a.Stories.Acknowledge(s.revCtx, s.revAct, st.ID, cur.Revision, fps); err != nil {
			return fmt.Errorf("acknowledging PHI findings: %w", err)
		}
	}
	if _, err := s.a.Stories.Approve(s.revCtx, s.revAct, st.ID, cur.Revision, "Consent and PHI checked.", stories.ApprovalInput{Channels: sp.channels}); err != nil {
		return fmt.Errorf("approving: %w", err)
	}
	if sp.stage == workflow.Approved {
		return s.runJobs()
	}
	// The publisher posts to every approved social channel now, which
	// publishes the website page too.
	social := slices.DeleteFunc(slices.Clone(sp.channels), func(c string) bool { return c == "website" })
	if len(social) > 0 {
		if _, err := s.a.Export.Schedule(s.pubCtx, s.pubAct, st.ID, social, time.Time{}); err != nil {
			return fmt.Errorf("posting: %w", err)
		}
	} else if _, err := s.a.Stories.Transition(s.pubCtx, s.pubAct, st.ID, workflow.Published, "", 0); err != nil {
		return err
	}
	if err := s.runJobs(); err != nil { // deliveries
		return err
	}
	var pub models.WebsitePublication
	if err := s.a.DB.WithContext(s.ctx).Where("story_id = ?", st.ID).Take(&pub).Error; err != nil {
		return fmt.Errorf("website publication: %w", err)
	}
	rec.Slug = pub.Slug
	if err := s.clicks(st.ID, len(s.out.Stories[workflow.Published])); err != nil {
		return err
	}
	if sp.stage == workflow.Published {
		return nil
	}
	// The patient changes their mind: revoking (after the same identity
	// check) withdraws the page at once and takes the posts down.
	if err := s.a.Consent.RevokeVerifyDOB(s.ctx, signed, p.DOB, ip); err != nil {
		return err
	}
	if err := s.a.Consent.Revoke(s.ctx, signed, "I changed my mind about sharing this.", ip); err != nil {
		return fmt.Errorf("revoking: %w", err)
	}
	return s.runJobs()
}

func errors(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// addPhoto uploads a generated photo through the media pipeline (type
// sniffing, metadata stripping, SHA-256, renditions queued) and gives it
// alt text and a caption, as staff do on the media page.
func (s *showcase) addPhoto(storyID, alt string) (string, error) {
	s.photo++
	b, err := Photo(s.photo, 1600, 1067)
	if err != nil {
		return "", err
	}
	m, err := s.a.Media.Upload(s.tellerCtx, assets.Owner{Type: models.OwnerStory, ID: storyID}, fmt.Sprintf("photo-%d.jpg", s.photo), bytes.NewReader(b), s.teller.ID)
	if err != nil {
		return "", fmt.Errorf("uploading a photo: %w", err)
	}
	if err := s.a.Media.Describe(s.tellerCtx, m.ID, alt, alt+".", 500, 500); err != nil {
		return "", err
	}
	return m.ID, nil
}

// clicks follows the story's short links as readers would, spread over the
// last three weeks, so the publishing dashboard has a chart.
func (s *showcase) clicks(storyID string, n int) error {
	var links []models.ShortLink
	if err := s.a.DB.WithContext(s.ctx).Where("story_id = ?", storyID).Order("channel").Find(&links).Error; err != nil {
		return err
	}
	defer s.a.Export.SetClock(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	now := time.Now().UTC()
	for li, l := range links {
		for day := 20; day >= 0; day-- {
			at := now.AddDate(0, 0, -day)
			s.a.Export.SetClock(func() time.Time { return at })
			for k := 0; k < (day*7+li*3+n*5)%9+1; k++ {
				if _, err := s.a.Export.Follow(s.ctx, l.Code); err != nil {
					return fmt.Errorf("following a short link: %w", err)
				}
				s.out.Clicks++
			}
		}
	}
	return nil
}

// runJobs runs every job that is due: renditions, certificates, mail (to
// the log), deliveries, takedowns.
func (s *showcase) runJobs() error {
	for {
		ran, err := s.a.Jobs.RunOnce(s.ctx)
		if err != nil {
			return err
		}
		if !ran {
			return nil
		}
	}
}

func (sc *Showcase) print(w io.Writer, base string) {
	fmt.Fprintln(w, "\nStories at every stage (Stories screen; filter by stage):")
	for _, st := range []workflow.Stage{workflow.Interview, workflow.Drafting, workflow.AwaitingConsent, workflow.ConsentDeclined, workflow.Consented,
		workflow.InReview, workflow.ChangesRequested, workflow.Approved, workflow.Published, workflow.Withdrawn} {
		for _, x := range sc.Stories[st] {
			fmt.Fprintf(w, "  %-18s %s  %s/stories/%s\n", st.Label(), x.Title, base, x.ID)
		}
	}
	fmt.Fprintln(w, "\nTry it:")
	if sc.ConsentLink != "" {
		fmt.Fprintf(w, "  Sign a consent as the patient: %s\n    (date of birth %s; the link works for 14 days)\n", sc.ConsentLink, sc.ConsentDOB)
	}
	for _, x := range sc.Stories[workflow.Published] {
		fmt.Fprintf(w, "  Public page:    %s/p/%s\n", base, x.Slug)
	}
	for _, x := range sc.Stories[workflow.Withdrawn] {
		fmt.Fprintf(w, "  Withdrawn page: %s/p/%s   (410 Gone: the patient revoked)\n", base, x.Slug)
	}
	if sc.Certificate != "" {
		fmt.Fprintf(w, "  A sealed consent certificate: %s/verify/%s (download it from the story's Consent page;\n    then: storykeep consent verify FILE.pdf)\n", base, sc.Certificate)
	}
	fmt.Fprintf(w, "  Deliveries and clicks: %s/publishing (%d clicks), and each published story's Publish page\n", base, sc.Clicks)
}
