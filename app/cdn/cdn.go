// Package cdn removes a withdrawn story's public addresses from the CDN in
// front of the public website (issue 23, item 3). When a story leaves the
// website (its consent revoked or expired, or staff archive it), the
// website capability calls EnqueuePurge inside the same transaction; a
// "cdn.purge" job then calls the configured CDN's purge API — Cloudflare
// (URLs and prefixes), Fastly (surrogate keys) or a generic endpoint (URLs)
// — through the outbound guard, retrying with growing waits for days and
// auditing every success and failure. A purge that keeps failing stays
// listed on Admin → Jobs until it succeeds. See docs/cdn.md.
package cdn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/disclosure"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/models"
)

// JobPurge is the job kind that purges one withdrawn story.
const JobPurge = "cdn.purge"

// purgeAttempts keeps a failing purge trying for days (the backoff grows
// to an hour), like a takedown: a withdrawn page must not stay on the CDN
// because its API refused once, e.g. for a token the admin has yet to renew.
const purgeAttempts = 100

// ListsKey is the surrogate key of every public list that may show a
// story: the index, tag pages, feeds and sitemap.
const ListsKey = "sk-public-lists"

// StoryKey is the surrogate key of a story's page and its pictures (every
// version of their addresses), from its public slug (free of the patient's
// name).
func StoryKey(slug string) string { return "sk-story-" + url.PathEscape(slug) }

// Service queues and runs purges. A Service without a purger (no CDN
// configured) queues nothing.
type Service struct {
	db        *gorm.DB
	audit     *audit.Log
	jobs      *jobs.Queue
	log       *slog.Logger
	purger    Purger
	publicURL string
}

// Deps are what a Service needs.
type Deps struct {
	DB        *gorm.DB
	Audit     *audit.Log
	Jobs      *jobs.Queue
	Log       *slog.Logger
	PublicURL string
	// AllowHosts are the outbound guard's allowed internal hosts
	// (STORYKEEP_OUTBOUND_ALLOW_HOSTS): the purge API is called like a
	// channel, never on an internal address unless allowed.
	AllowHosts []string
}

// New builds the service for the configured CDN (none: purges nothing).
func New(cfg config.CDN, d Deps) *Service {
	s := &Service{db: d.DB, audit: d.Audit, jobs: d.Jobs, log: d.Log, publicURL: strings.TrimRight(d.PublicURL, "/")}
	if s.log == nil {
		s.log = slog.Default()
	}
	client := export.NewOutbound(d.AllowHosts).Client(30 * time.Second)
	switch cfg.Provider {
	case "cloudflare":
		s.purger = &Cloudflare{Base: orDefault(cfg.APIBase, CloudflareAPI), ZoneID: cfg.ZoneID, Token: cfg.APIToken, Client: client}
	case "fastly":
		s.purger = &Fastly{Base: orDefault(cfg.APIBase, FastlyAPI), ServiceID: cfg.ServiceID, Token: cfg.APIToken, Client: client}
	case "generic":
		s.purger = &Generic{URL: cfg.PurgeURL, Method: cfg.PurgeMethod, Token: cfg.APIToken, Client: client}
	}
	return s
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Register adds the purge job's handler to q.
func (s *Service) Register(q *jobs.Queue) { q.Handle(JobPurge, s.HandlePurge) }

// On reports whether a CDN is configured.
func (s *Service) On() bool { return s != nil && s.purger != nil }

// Provider names the configured CDN ("" for none).
func (s *Service) Provider() string {
	if !s.On() {
		return ""
	}
	return s.purger.Name()
}

// purgeJob is the job's payload: what was public when the story was
// withdrawn, worked out then (a later retention purge may remove rows).
type purgeJob struct {
	StoryID string  `json:"story_id"`
	Reason  string  `json:"reason"`
	Targets Request `json:"targets"`
}

// EnqueuePurge queues the purge of story id's public addresses inside tx,
// the transaction that withdraws it, so the purge is queued exactly when
// the withdrawal commits. It reads only through tx. Without a CDN it does
// nothing.
func (s *Service) EnqueuePurge(ctx context.Context, tx *gorm.DB, storyID, reason string) error {
	if !s.On() {
		return nil
	}
	t, err := s.Targets(tx, storyID)
	if err != nil || t == nil {
		return err
	}
	j, err := s.jobs.Enqueue(ctx, tx, JobPurge, purgeJob{StoryID: storyID, Reason: reason, Targets: *t}, jobs.Options{MaxAttempts: purgeAttempts})
	if err != nil {
		return err
	}
	go s.wakeWhenCommitted(j.ID)
	return s.audit.Record(ctx, tx, audit.Entry{Action: "cdn.purge_queued", ObjectType: "story", ObjectID: storyID,
		Details: map[string]any{"job_id": j.ID, "provider": s.purger.Name(), "reason": reason, "urls": len(t.URLs), "keys": len(t.Keys), "prefixes": len(t.Prefixes)}})
}

// wakeWhenCommitted wakes this replica's job workers as soon as the purge
// job is visible, i.e. the withdrawal committed, so the purge does not wait
// for the next poll (up to 2 s). On SQLite the query waits for the single
// connection the transaction holds; on PostgreSQL it looks every 20 ms.
// Nothing is woken if the withdrawal rolled back; the poll remains the
// guarantee either way.
func (s *Service) wakeWhenCommitted(jobID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.Job{}).Where("id = ?", jobID).Count(&n).Error; err != nil {
			return
		}
		if n > 0 {
			s.jobs.Wake()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Targets lists story id's public addresses: its page (and the short-link
// targets with their tracking parameters), every public crop of its
// pictures (with and without the version parameter), the lists that showed
// it (index, its tag pages, feeds, sitemap), its short links; the surrogate
// keys of the page and the lists; and the URL prefix of the page for CDNs
// that purge by prefix (which also catches other query strings). Nil when
// the story was never on the website.
func (s *Service) Targets(tx *gorm.DB, storyID string) (*Request, error) {
	var pub models.WebsitePublication
	if err := tx.Where("story_id = ?", storyID).Limit(1).Find(&pub).Error; err != nil {
		return nil, err
	}
	if pub.StoryID == "" {
		return nil, nil
	}
	base := s.publicURL
	page := &disclosure.Page{Path: "/p/" + url.PathEscape(pub.Slug)}
	urls := []string{base + page.Path, base + "/p", base + "/feed.atom", base + "/feed.json", base + "/sitemap.xml"}
	var tags []string
	if err := tx.Model(&models.StoryTag{}).Where("story_id = ?", storyID).Order("tag").Pluck("tag", &tags).Error; err != nil {
		return nil, err
	}
	for _, t := range tags {
		urls = append(urls, base+"/p/tag/"+url.PathEscape(t))
	}
	var rs []models.MediaRendition
	if err := tx.Model(&models.MediaRendition{}).
		Joins("JOIN media_assets ON media_assets.id = media_renditions.asset_id").
		Where("media_assets.owner_type = ? AND media_assets.owner_id = ? AND media_assets.kind = ? AND media_renditions.name IN ?",
			models.OwnerStory, storyID, "image", disclosure.PageRenditions).
		Order("media_renditions.asset_id, media_renditions.name").Find(&rs).Error; err != nil {
		return nil, err
	}
	for _, r := range rs {
		versioned := disclosure.ImagePath(pub.Slug, r)
		plain, _, _ := strings.Cut(versioned, "?")
		urls = append(urls, base+versioned, base+plain)
	}
	var links []models.ShortLink
	if err := tx.Where("story_id = ?", storyID).Order("code").Find(&links).Error; err != nil {
		return nil, err
	}
	for _, l := range links {
		urls = append(urls, base+"/s/"+url.PathEscape(l.Code), base+page.ShortLinkTarget(l.Channel))
	}
	slices.Sort(urls)
	urls = slices.Compact(urls)
	return &Request{URLs: urls, Keys: []string{StoryKey(pub.Slug), ListsKey}, Prefixes: []string{hostPath(base) + page.Path}}, nil
}

// hostPath is the public URL without its scheme, as prefixes are written.
func hostPath(base string) string {
	if _, rest, ok := strings.Cut(base, "://"); ok {
		return rest
	}
	return base
}

// HandlePurge runs one purge. Every outcome is audited (counts and the
// CDN's answer, never a patient detail); a failure, whatever the CDN
// answered (a 401 for a revoked token too), is logged at ERROR and retried
// with growing waits: the page may still be on the CDN.
func (s *Service) HandlePurge(ctx context.Context, job *models.Job) error {
	ctx = audit.WithActor(ctx, audit.System)
	var p purgeJob
	if err := jobs.Decode(job, &p); err != nil {
		return err
	}
	if !s.On() {
		err := errors.New("no CDN is configured any more (STORYKEEP_CDN_PROVIDER); purge the story's addresses by hand, then cancel this job")
		s.recordFailure(ctx, job, &p, "", err)
		return jobs.Permanent(err)
	}
	err := s.purger.Purge(ctx, p.Targets)
	if err != nil {
		s.recordFailure(ctx, job, &p, s.purger.Name(), err)
		return err
	}
	return s.audit.Record(ctx, nil, audit.Entry{Action: "cdn.purged", ObjectType: "story", ObjectID: p.StoryID,
		Details: map[string]any{"job_id": job.ID, "provider": s.purger.Name(), "attempt": job.Attempts, "urls": len(p.Targets.URLs), "keys": len(p.Targets.Keys), "prefixes": len(p.Targets.Prefixes)}})
}

func (s *Service) recordFailure(ctx context.Context, job *models.Job, p *purgeJob, provider string, err error) {
	status := 0
	var ae *APIError
	if errors.As(err, &ae) {
		status = ae.Status
	}
	s.log.ErrorContext(ctx, "CDN purge failed; the withdrawn story may still be served by the CDN", "job", job.ID, "story_id", p.StoryID,
		"provider", provider, "attempt", job.Attempts, "of", job.MaxAttempts, "status", status, "err", err)
	if aerr := s.audit.Record(ctx, nil, audit.Entry{Action: "cdn.purge_failed", ObjectType: "story", ObjectID: p.StoryID,
		Details: map[string]any{"job_id": job.ID, "provider": provider, "attempt": job.Attempts, "status": status, "error": truncate(err.Error(), 500)}}); aerr != nil {
		s.log.ErrorContext(ctx, "CDN purge failure not audited", "job", job.ID, "err", aerr)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// OpenPurge is a purge not done yet after a failure: it waits to retry,
// or gave up (dead) and waits for an admin's Retry.
type OpenPurge struct {
	JobID, StoryID, Status, LastError string
	Attempts, MaxAttempts             int
	NextAttempt                       time.Time
}

// Open lists the purges that failed and are not done yet, oldest first.
// They stay listed (Admin → Jobs) until a retry succeeds.
func (s *Service) Open(ctx context.Context) ([]OpenPurge, error) {
	var js []models.Job
	err := s.db.WithContext(ctx).Where("kind = ? AND (status = ? OR (status IN ? AND attempts > 0 AND last_error <> ''))",
		JobPurge, models.JobDead, []string{models.JobPending, models.JobRunning}).Order("created_at").Limit(200).Find(&js).Error
	if err != nil {
		return nil, err
	}
	out := make([]OpenPurge, 0, len(js))
	for i := range js {
		var p purgeJob
		if err := jobs.Decode(&js[i], &p); err != nil {
			return nil, fmt.Errorf("cdn: %w", err)
		}
		out = append(out, OpenPurge{JobID: js[i].ID, StoryID: p.StoryID, Status: js[i].Status, LastError: js[i].LastError,
			Attempts: js[i].Attempts, MaxAttempts: js[i].MaxAttempts, NextAttempt: js[i].RunAt})
	}
	return out, nil
}
