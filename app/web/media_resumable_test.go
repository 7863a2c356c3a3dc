package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/media/mediatest"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

func jsonReq(t *testing.T, env *apptest.Env, c *apptest.Client, method, path string, body io.Reader, contentType string) (*apptest.Resp, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, env.Server.URL+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-CSRF-Token", c.CSRF())
	req.Header.Set("Accept", "application/json")
	res := c.Do(req)
	var out map[string]any
	json.Unmarshal([]byte(res.Body), &out)
	return res, out
}

func TestResumableUpload(t *testing.T) {
	env := apptest.New(t)
	teller, tu := env.SignedIn(models.RoleStoryteller)
	storyID := createStory(t, teller, storyForm(addPatient(env, tu.ID, "Maria Lopez"), tu.ID, "Resumable"))
	wav, _ := io.ReadAll(mediatest.WAV(3<<20 + 12345))

	res, st := jsonReq(t, env, teller, http.MethodPost, "/stories/"+storyID+"/uploads", strings.NewReader(fmt.Sprintf(`{"file_name":"interview.wav","size":%d}`, len(wav))), "application/json")
	res.Expect(http.StatusCreated)
	id := st["id"].(string)
	const chunk = 1 << 20
	put := func(off int) (*apptest.Resp, map[string]any) {
		end := min(off+chunk, len(wav))
		return jsonReq(t, env, teller, http.MethodPut, fmt.Sprintf("/uploads/%s?offset=%d", id, off), bytes.NewReader(wav[off:end]), "application/octet-stream")
	}
	res, _ = put(0)
	res.Expect(http.StatusOK)
	res, _ = put(chunk)
	res.Expect(http.StatusOK)
	// The connection drops here. The client asks where to resume.
	_, st = jsonReq(t, env, teller, http.MethodGet, "/uploads/"+id, nil, "")
	if int(st["received"].(float64)) != 2*chunk {
		t.Fatalf("status after two chunks: %v", st)
	}
	res, st = put(0)
	res.Expect(http.StatusConflict)
	if int(st["received"].(float64)) != 2*chunk {
		t.Fatalf("a repeated chunk should say where to resume: %v", st)
	}
	other, _ := env.SignedIn(models.RoleStoryteller)
	res, _ = jsonReq(t, env, other, http.MethodGet, "/uploads/"+id, nil, "")
	res.Expect(http.StatusNotFound)
	res, _ = jsonReq(t, env, teller, http.MethodPost, "/uploads/"+id+"/complete", nil, "")
	res.Expect(http.StatusConflict)
	for off := 2 * chunk; off < len(wav); off += chunk {
		res, _ = put(off)
		res.Expect(http.StatusOK)
	}
	res, out := jsonReq(t, env, teller, http.MethodPost, "/uploads/"+id+"/complete", nil, "")
	res.Expect(http.StatusOK)
	stored := out["stored"].([]any)[0].(string)
	a, err := env.App.Media.Get(t.Context(), stored)
	if err != nil || a.Kind != "audio" {
		t.Fatalf("assembled asset %+v %v", a, err)
	}
	// The recording is stored remuxed without metadata (finding F20): the
	// asset's size and hash describe the stored object, whose audio is the
	// upload's (only the headers differ).
	rc, _, err := env.App.Store.Open(t.Context(), a.StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := io.ReadAll(rc)
	rc.Close()
	objSum := sha256.Sum256(obj)
	if a.SHA256 != hex.EncodeToString(objSum[:]) || a.SizeBytes != int64(len(obj)) {
		t.Fatalf("asset size/hash do not describe the stored object")
	}
	if d := len(obj) - len(wav); d < -4096 || d > 4096 {
		t.Fatalf("stored %d bytes for a %d-byte recording: more than its headers changed", len(obj), len(wav))
	}
	staging := 0
	env.App.Store.List(t.Context(), "staging/", func(storage.Info) error { staging++; return nil })
	var rows int64
	env.App.DB.Model(&models.Upload{}).Count(&rows)
	if staging != 0 || rows != 0 {
		t.Fatalf("staging left behind: %d objects, %d rows", staging, rows)
	}

	// A file the pipeline refuses is refused at its first chunk (finding
	// F17: nothing unacceptable is staged) and leaves nothing either.
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)
	_, st = jsonReq(t, env, teller, http.MethodPost, "/stories/"+storyID+"/uploads", strings.NewReader(fmt.Sprintf(`{"file_name":"x.png","size":%d}`, len(svg))), "application/json")
	id = st["id"].(string)
	res, out = jsonReq(t, env, teller, http.MethodPut, "/uploads/"+id+"?offset=0", bytes.NewReader(svg), "application/octet-stream")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(out), "x.png") {
		t.Fatalf("refused file: %d %v", res.Status, out)
	}
	res, _ = jsonReq(t, env, teller, http.MethodPost, "/uploads/"+id+"/complete", nil, "")
	res.Expect(http.StatusNotFound)
	env.App.Store.List(t.Context(), "staging/", func(storage.Info) error { staging++; return nil })
	if staging != 0 {
		t.Fatal("refused upload left staging objects")
	}
}
