// Package exporttest holds local servers that speak the real wire formats of
// the networks Storykeep posts to (a signed-webhook receiver, Mastodon, a
// Bluesky PDS), for tests of the adapters and of whole journeys.
package exporttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// HMACSHA256 is written out from RFC 2104 rather than with crypto/hmac, so
// the webhook signature is checked by an independent implementation.
func HMACSHA256(key, msg []byte) string {
	const block = 64
	if len(key) > block {
		k := sha256.Sum256(key)
		key = k[:]
	}
	k := make([]byte, block)
	copy(k, key)
	ipad, opad := make([]byte, block), make([]byte, block)
	for i := range k {
		ipad[i], opad[i] = k[i]^0x36, k[i]^0x5c
	}
	inner := sha256.Sum256(append(ipad, msg...))
	outer := sha256.Sum256(append(opad, inner[:]...))
	return hex.EncodeToString(outer[:])
}

// WebhookReceiver verifies the signature of every request and answers with
// the status its script gives for each call.
type WebhookReceiver struct {
	*httptest.Server
	Mu       sync.Mutex
	Secret   string
	Statuses []int // answers in order; the last repeats
	Got      []map[string]any
	BadSig   int
}

func NewWebhookReceiver(t *testing.T, secret string, statuses ...int) *WebhookReceiver {
	w := &WebhookReceiver{Secret: secret, Statuses: statuses}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("Storykeep-Timestamp")
		w.Mu.Lock()
		defer w.Mu.Unlock()
		if r.Header.Get("Storykeep-Signature") != "sha256="+HMACSHA256([]byte(w.Secret), []byte(ts+"."+string(body))) {
			w.BadSig++
			http.Error(rw, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		w.Got = append(w.Got, m)
		st := w.Statuses[min(len(w.Got)-1, len(w.Statuses)-1)]
		if st == http.StatusTooManyRequests {
			rw.Header().Set("Retry-After", "90")
		}
		rw.WriteHeader(st)
		if st == 200 {
			fmt.Fprint(rw, `{"id":"buf-1","url":"https://buffer.example/p/1"}`)
		}
	}))
	t.Cleanup(w.Close)
	return w
}

// Count is how many deliveries arrived.
func (w *WebhookReceiver) Count() int { w.Mu.Lock(); defer w.Mu.Unlock(); return len(w.Got) }

// Mastodon implements the Mastodon endpoints the adapter uses, with the
// formats of docs.joinmastodon.org: instance configuration, async media
// (202 then 206 until processed), statuses with Idempotency-Key, deletes,
// rate-limit headers and 429.
// Mastodon is a local server speaking the Mastodon API endpoints Storykeep
// uses (instance, media, statuses), with rate-limit headers and 429.
type Mastodon struct {
	*httptest.Server
	Mu          sync.Mutex
	MaxChars    int
	RateLimited int // answer the next N status posts with 429
	Statuses    map[string]string
	ByKey       map[string]string
	Media       map[string]string // id -> description
	Files       map[string][]byte // id -> the uploaded file's bytes
	Polls       int
	LastMedia   []string
}

func NewMastodon(t *testing.T) *Mastodon {
	f := &Mastodon{MaxChars: 500, Statuses: map[string]string{}, ByKey: map[string]string{}, Media: map[string]string{}, Files: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/instance", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"domain":"mastodon.test","configuration":{"statuses":{"max_characters":%d,"max_media_attachments":4,"characters_reserved_per_url":23}}}`, f.MaxChars)
	})
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		f.rateHeaders(w)
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"The access token is invalid"}`)
			return false
		}
		return true
	}
	mux.HandleFunc("POST /api/v2/media", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		if err := r.ParseMultipartForm(10 << 20); err != nil || r.MultipartForm.File["file"] == nil {
			w.WriteHeader(422)
			fmt.Fprint(w, `{"error":"Validation failed: File can't be blank"}`)
			return
		}
		var data []byte
		if file, err := r.MultipartForm.File["file"][0].Open(); err == nil {
			data, _ = io.ReadAll(file)
			file.Close()
		}
		f.Mu.Lock()
		id := fmt.Sprint(100 + len(f.Media))
		f.Media[id] = r.FormValue("description")
		f.Files[id] = data
		f.Mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":%q,"type":"image","url":null,"description":%q}`, id, r.FormValue("description"))
	})
	mux.HandleFunc("GET /api/v1/media/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		f.Mu.Lock()
		f.Polls++
		first := f.Polls%2 == 1
		f.Mu.Unlock()
		if first {
			w.WriteHeader(http.StatusPartialContent)
			fmt.Fprintf(w, `{"id":%q,"type":"image","url":null}`, r.PathValue("id"))
			return
		}
		fmt.Fprintf(w, `{"id":%q,"type":"image","url":"https://files.mastodon.test/%s.jpg"}`, r.PathValue("id"), r.PathValue("id"))
	})
	mux.HandleFunc("POST /api/v1/statuses", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		f.Mu.Lock()
		defer f.Mu.Unlock()
		if f.RateLimited > 0 {
			f.RateLimited--
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"Too many requests"}`)
			return
		}
		_ = r.ParseForm()
		if len([]rune(r.FormValue("status"))) > f.MaxChars {
			w.WriteHeader(422)
			fmt.Fprint(w, `{"error":"Validation failed: Text character limit of 500 exceeded"}`)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		id, ok := f.ByKey[key]
		if !ok {
			id = fmt.Sprint(1000 + len(f.Statuses))
			f.ByKey[key] = id
			f.Statuses[id] = r.FormValue("status")
		}
		f.LastMedia = r.Form["media_ids[]"]
		fmt.Fprintf(w, `{"id":%q,"url":"https://mastodon.test/@hospital/%s","visibility":"public","content":"<p>…</p>"}`, id, id)
	})
	mux.HandleFunc("DELETE /api/v1/statuses/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		f.Mu.Lock()
		defer f.Mu.Unlock()
		if _, ok := f.Statuses[r.PathValue("id")]; !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"Record not found"}`)
			return
		}
		delete(f.Statuses, r.PathValue("id"))
		fmt.Fprintf(w, `{"id":%q,"text":"…"}`, r.PathValue("id"))
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *Mastodon) rateHeaders(w http.ResponseWriter) {
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Remaining", "299")
	w.Header().Set("X-RateLimit-Reset", time.Now().Add(5*time.Minute).UTC().Format(time.RFC3339Nano))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
}

// PDS implements the XRPC endpoints of an AT Protocol PDS the adapter
// uses, with the lexicon's request and error formats and 429 with
// RateLimit-* headers.
type PDS struct {
	*httptest.Server
	Mu          sync.Mutex
	Records     map[string]map[string]any // rkey -> record
	Blobs       int
	Uploaded    [][]byte // the bytes of each uploaded blob
	RateLimited int
	Password    string // the app password createSession accepts ("app-pass")
	SignIns     int    // createSession calls that succeeded
	Refreshes   int    // refreshSession calls that succeeded
	gen         int    // access tokens of older generations have expired
	Langs       []any  // langs of the last record created
}

// ExpireAccess makes every access token issued so far expire (refresh
// tokens stay valid), as a PDS does after about two hours.
func (f *PDS) ExpireAccess() { f.Mu.Lock(); f.gen++; f.Mu.Unlock() }

func (f *PDS) access() string { return fmt.Sprintf("jwt-access:%s:%d", f.Password, f.gen) }

func NewPDS(t *testing.T) *PDS {
	f := &PDS{Records: map[string]map[string]any{}, Password: "app-pass"}
	mux := http.NewServeMux()
	xerr := func(w http.ResponseWriter, status int, name, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"message":%q}`, name, msg)
	}
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		f.Mu.Lock()
		want, pw := f.access(), f.Password
		f.Mu.Unlock()
		got := r.Header.Get("Authorization")
		switch {
		case got == "Bearer "+want:
			return true
		case strings.HasPrefix(got, "Bearer jwt-access:"+pw+":"):
			xerr(w, 400, "ExpiredToken", "Token has expired")
		default:
			xerr(w, 401, "AuthenticationRequired", "Authentication Required")
		}
		return false
	}
	mux.HandleFunc("POST /xrpc/com.atproto.server.refreshSession", func(w http.ResponseWriter, r *http.Request) {
		f.Mu.Lock()
		defer f.Mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer jwt-refresh:"+f.Password {
			xerr(w, 400, "ExpiredToken", "Token has been revoked")
			return
		}
		f.Refreshes++
		fmt.Fprintf(w, `{"accessJwt":%q,"refreshJwt":%q,"handle":"hospital.bsky.social","did":"did:plc:hospital"}`, f.access(), "jwt-refresh:"+f.Password)
	})
	mux.HandleFunc("POST /xrpc/com.atproto.server.createSession", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Identifier, Password string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.Mu.Lock()
		pw := f.Password
		f.Mu.Unlock()
		if in.Identifier != "hospital.bsky.social" || in.Password != pw {
			xerr(w, 401, "AuthenticationRequired", "Invalid identifier or password")
			return
		}
		f.Mu.Lock()
		f.SignIns++
		fmt.Fprintf(w, `{"accessJwt":%q,"refreshJwt":%q,"handle":"hospital.bsky.social","did":"did:plc:hospital"}`, f.access(), "jwt-refresh:"+pw)
		f.Mu.Unlock()
	})
	mux.HandleFunc("POST /xrpc/com.atproto.repo.uploadBlob", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.Mu.Lock()
		f.Blobs++
		f.Uploaded = append(f.Uploaded, b)
		n := f.Blobs
		f.Mu.Unlock()
		fmt.Fprintf(w, `{"blob":{"$type":"blob","ref":{"$link":"bafkrei%d"},"mimeType":%q,"size":%d}}`, n, r.Header.Get("Content-Type"), len(b))
	})
	mux.HandleFunc("GET /xrpc/com.atproto.repo.getRecord", func(w http.ResponseWriter, r *http.Request) {
		f.Mu.Lock()
		_, ok := f.Records[r.URL.Query().Get("rkey")]
		f.Mu.Unlock()
		if !ok {
			xerr(w, 400, "RecordNotFound", "Could not locate record")
			return
		}
		fmt.Fprintf(w, `{"uri":"at://did:plc:hospital/app.bsky.feed.post/%s","value":{}}`, r.URL.Query().Get("rkey"))
	})
	mux.HandleFunc("POST /xrpc/com.atproto.repo.createRecord", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		f.Mu.Lock()
		defer f.Mu.Unlock()
		if f.RateLimited > 0 {
			f.RateLimited--
			w.Header().Set("RateLimit-Limit", "5000")
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", fmt.Sprint(time.Now().Add(10*time.Minute).Unix()))
			xerr(w, 429, "RateLimitExceeded", "Rate Limit Exceeded")
			return
		}
		var in struct {
			Repo, Collection, Rkey string
			Record                 map[string]any
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.Collection != "app.bsky.feed.post" || in.Record["$type"] != "app.bsky.feed.post" || len([]rune(fmt.Sprint(in.Record["text"]))) > 300 {
			xerr(w, 400, "InvalidRequest", "Invalid app.bsky.feed.post record")
			return
		}
		f.Records[in.Rkey] = in.Record
		f.Langs, _ = in.Record["langs"].([]any)
		fmt.Fprintf(w, `{"uri":"at://%s/app.bsky.feed.post/%s","cid":"bafyrei1"}`, in.Repo, in.Rkey)
	})
	mux.HandleFunc("POST /xrpc/com.atproto.repo.deleteRecord", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		var in struct{ Repo, Collection, Rkey string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.Mu.Lock()
		delete(f.Records, in.Rkey)
		f.Mu.Unlock()
		fmt.Fprint(w, `{}`)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// Only returns the single record stored (failing if there is not one).
func (f *PDS) Only() (string, map[string]any) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for k, v := range f.Records {
		return k, v
	}
	return "", nil
}

var _ = strings.Contains
