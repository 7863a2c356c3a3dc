package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

type upload struct {
	name string
	data []byte
}

// postFiles sends files as one streamed multipart request; token is put in
// the first part (as the no-JS form does) or in the header (as upload.js does).
func postFiles(t *testing.T, env *apptest.Env, c *apptest.Client, path string, files []upload, via string) *apptest.Resp {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if via == "form" {
		w.WriteField("_csrf", c.CSRF())
	}
	for _, f := range files {
		fw, _ := w.CreateFormFile("files", f.name)
		fw.Write(f.data)
	}
	w.Close()
	url := env.Server.URL + path
	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if via == "header" {
		req.Header.Set("X-CSRF-Token", c.CSRF())
		req.Header.Set("Accept", "application/json")
	}
	return c.Do(req)
}

func jpegFile(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for x := 0; x < 320; x++ {
		for y := 0; y < 240; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// noisePNG is larger than the 2 MB form limit, to prove uploads stream.
func noisePNG(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 1000, 800))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	if b.Len() < 2<<20 {
		t.Fatalf("fixture too small: %d", b.Len())
	}
	return b.Bytes()
}

func mediaOf(t *testing.T, env *apptest.Env, storyID string) []models.MediaAsset {
	var as []models.MediaAsset
	env.App.DB.Where("owner_id = ?", storyID).Order("created_at").Find(&as)
	return as
}

func TestMediaUploadDescribeServeDelete(t *testing.T) {
	env := apptest.New(t)
	teller, tu := env.SignedIn(models.RoleStoryteller)
	storyID := createStory(t, teller, storyForm(addPatient(env, tu.ID, "Maria Lopez"), tu.ID, "Walking again"))
	page := "/stories/" + storyID + "/media"

	// No-JS form: several files at once, one refused; the good one is kept.
	res := postFiles(t, env, teller, page, []upload{{"beach.jpg", jpegFile(t)}, {"logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}, {"big.png", noisePNG(t)}}, "form")
	res.Expect(http.StatusSeeOther)
	if res.Location() != page {
		t.Fatalf("after uploading, redirected to %q, want the media page %q", res.Location(), page)
	}
	list := teller.Get(res.Location()).Expect(http.StatusOK)
	if list.Doc.Find(`form[data-upload]`).AttrOr("action", "") != page || list.Doc.Find(`form[data-upload] input`).First().AttrOr("name", "") != "_csrf" {
		t.Fatalf("upload form posts to %q", list.Doc.Find(`form[data-upload]`).AttrOr("action", ""))
	}
	list.Contains("2 file(s) added").Contains("Some files were not added").Contains("logo.png:")
	as := mediaOf(t, env, storyID)
	if len(as) != 2 || as[0].FileName != "beach.jpg" || as[0].Kind != "image" {
		t.Fatalf("assets %+v", as)
	}
	if list.Doc.Find(".media-item").Length() != 2 || !strings.Contains(list.Text(".media-item"), "Needs alt text") {
		t.Fatal("media page should list both and ask for alt text")
	}

	// upload.js path: header token, JSON answer.
	res = postFiles(t, env, teller, page, []upload{{"two.jpg", jpegFile(t)}}, "header").Expect(http.StatusOK)
	var out struct{ Stored []string }
	json.Unmarshal([]byte(res.Body), &out)
	if len(out.Stored) != 1 {
		t.Fatalf("json upload: %s", res.Body)
	}

	// Without a token nothing is stored.
	postFiles(t, env, teller, page, []upload{{"x.jpg", jpegFile(t)}}, "none").Expect(http.StatusForbidden)
	if n := len(mediaOf(t, env, storyID)); n != 3 {
		t.Fatalf("CSRF-less upload stored something: %d assets", n)
	}

	a := as[0]
	file := teller.Get("/media/" + a.ID + "/file").Expect(http.StatusOK)
	if file.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(file.Body, "\xff\xd8") || !strings.Contains(file.Header.Get("Cache-Control"), "private") {
		t.Fatalf("served file: %v", file.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/media/"+a.ID+"/file", nil)
	req.Header.Set("Range", "bytes=0-9")
	part := teller.Do(req).Expect(http.StatusPartialContent)
	if len(part.Body) != 10 || !strings.HasPrefix(part.Header.Get("Content-Range"), "bytes 0-9/") {
		t.Fatalf("range: %d bytes, %q", len(part.Body), part.Header.Get("Content-Range"))
	}
	req, _ = http.NewRequest(http.MethodGet, env.Server.URL+"/media/"+a.ID+"/file", nil)
	req.Header.Set("Range", "bytes=99999999-")
	teller.Do(req).Expect(http.StatusRequestedRangeNotSatisfiable)

	teller.Post("/media/"+a.ID+"/describe", map[string][]string{"alt": {"A woman walking on a beach"}, "caption": {""}, "focal_x": {"200"}, "focal_y": {"300"}}).Expect(http.StatusSeeOther)
	teller.Post("/media/"+a.ID+"/describe", map[string][]string{"alt": {"x"}, "focal_x": {"2000"}, "focal_y": {"0"}}).Expect(http.StatusUnprocessableEntity).Contains("The focal point must lie inside the picture.")

	// Renditions are made by the job queue.
	for {
		ran, err := env.App.Jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			break
		}
	}
	thumb := teller.Get("/media/" + a.ID + "/r/thumbnail").Expect(http.StatusOK)
	if thumb.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatal("thumbnail rendition missing")
	}
	teller.Get(page).Contains("ready")

	// Others: a reviewer may look but not change; another storyteller may not change.
	reviewer, _ := env.SignedIn(models.RoleReviewer)
	reviewer.Get("/media/" + a.ID + "/file").Expect(http.StatusOK)
	reviewer.Post("/media/"+a.ID+"/delete", nil).Expect(http.StatusForbidden)
	other, _ := env.SignedIn(models.RoleStoryteller)
	postFiles(t, env, other, page, []upload{{"x.jpg", jpegFile(t)}}, "header").Expect(http.StatusForbidden)
	other.Post("/media/"+a.ID+"/delete", nil).Expect(http.StatusForbidden).Contains("only if it is yours")

	teller.Post("/media/"+a.ID+"/delete", nil).Expect(http.StatusSeeOther)
	teller.Get("/media/" + a.ID + "/file").Expect(http.StatusNotFound)
	if rep, err := env.App.Media.Check(context.Background()); err != nil || len(rep.ObjectsWithoutRows)+len(rep.RowsWithoutObjects) != 0 {
		t.Fatalf("store inconsistent after delete: %+v %v", rep, err)
	}
}

func TestMediaLimitFromConfig(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.MaxImageMB = 1 })
	teller, tu := env.SignedIn(models.RoleStoryteller)
	storyID := createStory(t, teller, storyForm(addPatient(env, tu.ID, "Maria Lopez"), tu.ID, "Limits"))
	res := postFiles(t, env, teller, "/stories/"+storyID+"/media", []upload{{"big.png", noisePNG(t)}}, "header").Expect(http.StatusUnprocessableEntity)
	if !strings.Contains(res.Body, "larger than the 1 MB limit") {
		t.Fatalf("limit message: %s", res.Body)
	}
	if n := len(mediaOf(t, env, storyID)); n != 0 {
		t.Fatal("over-limit file was stored")
	}
}

// TestMediaUploadCutOffMidway breaks the request body half-way through a
// file (a dropped connection): nothing may be stored, no row and no object.
func TestMediaUploadCutOffMidway(t *testing.T) {
	env := apptest.New(t)
	teller, tu := env.SignedIn(models.RoleStoryteller)
	storyID := createStory(t, teller, storyForm(addPatient(env, tu.ID, "Maria Lopez"), tu.ID, "Cut off"))
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("files", "big.png")
		data := noisePNG(t)
		fw.Write(data[:len(data)/2])
		pw.CloseWithError(errors.New("connection dropped"))
	}()
	req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/stories/"+storyID+"/media", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", teller.CSRF())
	req.Header.Set("Accept", "application/json")
	_, _ = http.DefaultClient.Do(req) // the client sees its own error; the server must clean up
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep, err := env.App.Media.Check(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := len(mediaOf(t, env, storyID))
		served := strings.Contains(env.Logs.String(), "route=/stories/:id/media")
		if served && n == 0 && len(rep.ObjectsWithoutRows) == 0 && rep.Checked == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("served=%v; cut-off upload left %d rows and objects %v", served, n, rep.ObjectsWithoutRows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var objects int
	env.App.Store.List(context.Background(), "", func(storage.Info) error { objects++; return nil })
	if objects != 0 {
		t.Fatalf("%d objects left in the store", objects)
	}
}
