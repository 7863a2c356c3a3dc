package assets_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/media"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) {
	code := miniotest.Run(m)
	dbtest.DropTemplate()
	os.Exit(code)
}

func stores(t *testing.T) map[string]storage.Store {
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s3, err := storage.NewS3(context.Background(), miniotest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]storage.Store{"local": local, "s3": s3}
}

func jpegBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		for y := 0; y < 48; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type bound bool

func (b bound) Bound(context.Context, string) (bool, error) { return bool(b), nil }

func setup(t *testing.T, st storage.Store) (*assets.Service, string) {
	gdb, _ := dbtest.Open(t)
	log := audit.New(gdb)
	keys, _ := crypto.LoadOrCreate("", t.TempDir())
	u, err := users.New(gdb, log, keys, users.Limits{PerAccount: 5, PerIP: 5, Window: 1}).Create(context.Background(), users.NewUser{Email: "s@h.test", Name: "S", Role: "storyteller", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return assets.New(gdb, st, log, media.Options{}), u.ID
}

func countObjects(t *testing.T, st storage.Store) int {
	n := 0
	if err := st.List(context.Background(), "", func(storage.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUploadDescribeDeleteAndCheck(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			svc, uid := setup(t, st)
			ctx := context.Background()
			owner := assets.Owner{Type: models.OwnerStory, ID: "story1"}
			a, err := svc.Upload(ctx, owner, "../../etc/IMG_0001.jpg", bytes.NewReader(jpegBytes(t)), uid)
			if err != nil {
				t.Fatal(err)
			}
			if a.FileName != "IMG_0001.jpg" || a.Kind != "image" || len(a.SHA256) != 64 || a.Width != 64 || !strings.HasPrefix(a.StorageKey, "media/story/story1/") {
				t.Fatalf("%+v", a)
			}
			if err := svc.Describe(ctx, a.ID, "A nurse holding a newborn", "", 200, 300); err != nil {
				t.Fatal(err)
			}
			var fe assets.FieldErrors
			if err := svc.Describe(ctx, a.ID, "", "", 2000, 0); !errors.As(err, &fe) || fe["focal"] == "" {
				t.Fatalf("bad focal point: %v", err)
			}
			// Rejected upload: clear message, nothing stored.
			before := countObjects(t, st)
			_, err = svc.Upload(ctx, owner, "evil.png", strings.NewReader(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), uid)
			if e, ok := apperr.As(err); !ok || e.Status != 422 || e.Msg == "" {
				t.Fatalf("svg should be refused with a message: %v", err)
			}
			// The row cannot be written (unknown uploader): the object must go too.
			if _, err := svc.Upload(ctx, owner, "x.jpg", bytes.NewReader(jpegBytes(t)), "no-such-user"); err == nil {
				t.Fatal("upload by unknown user should fail")
			}
			if got := countObjects(t, st); got != before {
				t.Fatalf("failed uploads left objects: %d before, %d after", before, got)
			}
			rep, err := svc.Check(ctx)
			if err != nil || rep.Checked != 1 || len(rep.RowsWithoutObjects)+len(rep.ObjectsWithoutRows) != 0 {
				t.Fatalf("clean store: %+v %v", rep, err)
			}
			// An orphan object and a row whose object vanished.
			st.Put(ctx, "media/story/story1/orphan", strings.NewReader("x"), 1, "image/jpeg")
			b, _ := svc.Upload(ctx, owner, "b.jpg", bytes.NewReader(jpegBytes(t)), uid)
			st.Delete(ctx, b.StorageKey)
			rep, _ = svc.Check(ctx)
			if len(rep.ObjectsWithoutRows) != 1 || rep.ObjectsWithoutRows[0] != "media/story/story1/orphan" || len(rep.RowsWithoutObjects) != 1 || rep.RowsWithoutObjects[0].ID != b.ID {
				t.Fatalf("check: %+v", rep)
			}
			if n, err := svc.Fix(ctx, rep); n != 1 || err != nil {
				t.Fatalf("fix: %d %v", n, err)
			}
			if rep, _ = svc.Check(ctx); len(rep.ObjectsWithoutRows) != 0 {
				t.Fatal("orphan not removed")
			}
			// A consent-bound asset cannot be deleted; an unbound one can.
			svc.Binder = bound(true)
			if err := svc.Delete(ctx, a.ID); err == nil || !strings.Contains(err.Error(), "consented") {
				t.Fatalf("bound asset deleted: %v", err)
			}
			svc.Binder = bound(false)
			if err := svc.Delete(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Stat(ctx, a.StorageKey); !errors.Is(err, storage.ErrNotFound) {
				t.Fatal("object should be deleted with its row")
			}
		})
	}
}
