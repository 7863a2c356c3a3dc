package export_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/models"
)

// verifierDir holds the npm standardwebhooks package, installed with
// `npm ci --prefix app/export/testdata/standardwebhooks`.
const verifierDir = "testdata/standardwebhooks"

type captured struct {
	headers map[string]string
	body    string
}

// verifyWithReference runs the reference library (node) on one request.
func verifyWithReference(t *testing.T, secret string, raw bool, c captured) (string, error) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(verifierDir, "node_modules", "standardwebhooks")); err != nil {
		msg := "standardwebhooks missing; install it: npm ci --prefix app/export/" + verifierDir
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	in, _ := json.Marshal(map[string]any{"secret": secret, "raw": raw, "headers": c.headers, "body": c.body})
	cmd := exec.Command("node", "verify.js")
	cmd.Dir = verifierDir
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: errb.Bytes()}
	}
	return strings.TrimSpace(out.String()), nil
}

// Finding (real servers, part C): the reference library rejected every
// delivery. Deliveries now carry webhook-id, webhook-timestamp and
// webhook-signature (v1,<base64>) that the npm standardwebhooks package
// verifies, for a whsec_ secret and for a plain one (raw key).
func TestStandardWebhooksReferenceLibraryVerifiesRealDeliveries(t *testing.T) {
	for _, tc := range []struct {
		secret string
		raw    bool
	}{{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false}, {"plain-s3cret", true}} {
		t.Run(tc.secret[:5], func(t *testing.T) {
			f := setup(t, map[string]string{"linkedin": "Maria walks again."})
			var mu sync.Mutex
			var got []captured
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				h := map[string]string{}
				for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
					h[k] = r.Header.Get(k)
				}
				mu.Lock()
				got = append(got, captured{h, string(b)})
				mu.Unlock()
				w.Write([]byte(`{"id":"p1"}`))
			}))
			defer rcv.Close()
			f.account(t, "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: rcv.URL, Secret: tc.secret})
			f.svc.Schedule(f.ctx, f.publisher, f.story.ID, []string{"linkedin"}, time.Time{})
			f.drain(t)
			if err := f.svc.Takedown(f.ctx, f.story.ID, "consent revoked"); err != nil {
				t.Fatal(err)
			}
			f.drain(t)
			if len(got) != 2 {
				t.Fatalf("%d requests", len(got))
			}
			for i, want := range []string{"publish", "unpublish"} {
				ev, err := verifyWithReference(t, tc.secret, tc.raw, got[i])
				if err != nil || ev != want {
					t.Fatalf("%s: reference library: %v %s", want, err, errText(err))
				}
				if !strings.HasPrefix(got[i].headers["webhook-id"], export.JobDeliver+":") {
					t.Fatalf("webhook-id %q", got[i].headers["webhook-id"])
				}
			}
			tampered := got[0]
			tampered.body = strings.Replace(tampered.body, "Maria", "Mario", 1)
			if _, err := verifyWithReference(t, tc.secret, tc.raw, tampered); err == nil {
				t.Fatal("the reference library accepted a tampered body")
			}
		})
	}
}

func errText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
