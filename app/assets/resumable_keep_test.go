package assets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// flakyStore fails every Put outside staging/ while down is set.
type flakyStore struct {
	storage.Store
	down atomic.Bool
}

func (f *flakyStore) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) (storage.Info, error) {
	if f.down.Load() && !strings.HasPrefix(key, "staging/") {
		io.Copy(io.Discard, r)
		return storage.Info{}, errors.New("storage: connection refused")
	}
	return f.Store.Put(ctx, key, r, size, ct)
}

// Finding (real servers §5): when storage failed during "complete", the
// staged chunks and the upload row were deleted, so the client had to send
// the whole file again. They are kept, and complete can be retried; staged
// chunks without an upload are reported and removed by media check.
func TestF5ResumableCompleteKeepsChunksWhenStorageFails(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			fs := &flakyStore{Store: st}
			svc, uid := setup(t, fs)
			ctx := context.Background()
			img := jpegBytes(t)
			u, err := svc.StartUpload(ctx, assets.Owner{Type: models.OwnerStory, ID: "story1"}, "photo.jpg", int64(len(img)), uid)
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.PutChunk(ctx, u, 0, bytes.NewReader(img), int64(len(img))); err != nil {
				t.Fatal(err)
			}
			fs.down.Store(true)
			if _, err := svc.CompleteUpload(ctx, u); err == nil {
				t.Fatal("complete should fail while storage is down")
			}
			again, err := svc.GetUpload(ctx, u.ID, uid)
			if err != nil || again.Received != int64(len(img)) {
				t.Fatalf("upload row not kept: %v", err)
			}
			fs.down.Store(false)
			a, err := svc.CompleteUpload(ctx, again)
			if err != nil || a.SizeBytes == 0 {
				t.Fatalf("retried complete: %v", err)
			}
			rep, err := svc.CheckAll(ctx, 0)
			if err != nil || len(rep.StagedWithoutUpload) != 0 {
				t.Fatalf("staging left after success: %+v %v", rep.StagedWithoutUpload, err)
			}
			// A staged chunk whose upload row is gone is reported once old
			// enough, and removed by Fix.
			if _, err := st.Put(ctx, "staging/gone-upload/000000", strings.NewReader("chunk"), 5, "application/octet-stream"); err != nil {
				t.Fatal(err)
			}
			if rep, _ := svc.CheckAll(ctx, time.Hour); len(rep.StagedWithoutUpload) != 0 {
				t.Fatal("a young chunk must not be reported")
			}
			rep, _ = svc.CheckAll(ctx, 0)
			if len(rep.StagedWithoutUpload) != 1 {
				t.Fatalf("staged without upload: %v", rep.StagedWithoutUpload)
			}
			if _, err := svc.Fix(ctx, rep); err != nil {
				t.Fatal(err)
			}
			if rep, _ := svc.CheckAll(ctx, 0); len(rep.StagedWithoutUpload)+len(rep.ObjectsWithoutRows) != 0 {
				t.Fatalf("after fix: %+v", rep)
			}
		})
	}
}
