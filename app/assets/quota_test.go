package assets_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func quotaSetup(t *testing.T) (*assets.Service, *gorm.DB, storage.Store, string) {
	gdb, _ := dbtest.Open(t)
	log := audit.New(gdb)
	keys, _ := crypto.LoadOrCreate("", t.TempDir())
	u, err := users.New(gdb, log, keys, users.Limits{PerAccount: 5, PerIP: 5, Window: 1}).Create(context.Background(), users.NewUser{Email: "q@h.test", Name: "Q", Role: "storyteller", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return assets.New(gdb, st, log, media.Options{}), gdb, st, u.ID
}

func wantStatus(t *testing.T, err error, status int, what string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Status != status {
		t.Fatalf("%s: %v, want status %d", what, err, status)
	}
}

// TestF17ResumableUploadQuota: open uploads per user, staged bytes per user
// and in total are capped; the first chunk is type-checked before anything
// is staged; and the sweep removes uploads idle longer than StaleAfter.
func TestF17ResumableUploadQuota(t *testing.T) {
	ctx := context.Background()
	svc, gdb, st, uid := quotaSetup(t)
	owner := assets.Owner{Type: "story", ID: "s1"}
	svc.SetUploadQuota(assets.UploadQuota{MaxOpenPerUser: 3, MaxStagedPerUser: 10 << 20, MaxStagedTotal: 12 << 20, StaleAfter: time.Hour})

	a, err := svc.StartUpload(ctx, owner, "a.jpg", 1<<20, uid)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.StartUpload(ctx, owner, "big.mp4", 9<<20+1, uid)
	wantStatus(t, err, 429, "over the per-user staged bytes")
	b, err := svc.StartUpload(ctx, owner, "b.jpg", 1<<20, uid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StartUpload(ctx, owner, "c.jpg", 1<<20, uid); err != nil {
		t.Fatal(err)
	}
	_, err = svc.StartUpload(ctx, owner, "d.jpg", 1<<20, uid)
	wantStatus(t, err, 429, "a fourth open upload")

	// The total counts every user's uploads.
	svc.SetUploadQuota(assets.UploadQuota{MaxOpenPerUser: 10, MaxStagedPerUser: 100 << 20, MaxStagedTotal: 4 << 20, StaleAfter: time.Hour})
	_, err = svc.StartUpload(ctx, owner, "e.jpg", 1<<20+1, uid)
	wantStatus(t, err, 503, "over the total staged bytes")

	// A first chunk that is not an accepted type ends the upload, unstaged.
	text := bytes.Repeat([]byte("just some text, not a photo\n"), 100)
	wantStatus(t, svc.PutChunk(ctx, a, 0, bytes.NewReader(text), int64(len(text))), 422, "a text first chunk")
	if _, err := svc.GetUpload(ctx, a.ID, uid); err == nil {
		t.Fatal("the refused upload is still open")
	}
	// A photo declared larger than the photo limit is refused at its first chunk.
	svc.SetUploadQuota(assets.UploadQuota{})
	jpg := jpegBytes(t)
	big, err := svc.StartUpload(ctx, owner, "huge.jpg", 31<<20, uid)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, svc.PutChunk(ctx, big, 0, bytes.NewReader(jpg), int64(len(jpg))), 422, "a photo over the photo limit")
	// A real photo's first chunk is staged.
	ok, err := svc.StartUpload(ctx, owner, "ok.jpg", int64(len(jpg)), uid)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PutChunk(ctx, ok, 0, bytes.NewReader(jpg), int64(len(jpg))); err != nil {
		t.Fatal(err)
	}
	if n := countObjects(t, st); n != 1 {
		t.Fatalf("%d staged objects, want 1 (only the photo's chunk)", n)
	}

	// The sweep removes uploads idle longer than StaleAfter, keeps the rest.
	svc.SetUploadQuota(assets.UploadQuota{StaleAfter: time.Hour})
	if err := gdb.Model(&models.Upload{}).Where("id IN ?", []string{b.ID, ok.ID}).Update("updated_at", time.Now().UTC().Add(-2*time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	if err := svc.HandleSweepUploads(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var left int64
	gdb.Model(&models.Upload{}).Count(&left)
	if _, err := svc.GetUpload(ctx, b.ID, uid); err == nil || left != 1 {
		t.Fatalf("after the sweep %d uploads are open, want 1 (the fresh one)", left)
	}
	if n := countObjects(t, st); n != 0 {
		t.Fatalf("%d staged objects after the sweep, want 0", n)
	}
}
