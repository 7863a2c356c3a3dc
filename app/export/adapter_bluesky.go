package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/abadojack/whatlanggo"
)

// Bluesky posts through the AT Protocol XRPC API of the account's PDS with
// an app password (never the main password). Sessions are kept and renewed
// with their refresh token: a PDS allows only 30 sign-ins per 5 minutes.
type Bluesky struct {
	hc       *http.Client
	mu       sync.Mutex
	sessions map[string]*atSession // by PDS, handle and app password
	// SignIns counts createSession calls (for tests and metrics).
	SignIns atomic.Int64
}

// NewBluesky returns the Bluesky adapter.
func NewBluesky(hc *http.Client) *Bluesky { return &Bluesky{hc: hc, sessions: map[string]*atSession{}} }

// handleRE is the AT Protocol handle syntax (a domain name).
var handleRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// NormalizeHandle turns what a person types for a Bluesky handle ("@hospital.bsky.social",
// " Hospital.bsky.social ") into the handle, or says why it is not one.
func NormalizeHandle(h string) (string, error) {
	h = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "@"))
	if strings.HasPrefix(h, "did:") {
		return h, nil // a DID identifies the account too
	}
	if len(h) > 253 || !handleRE.MatchString(h) {
		return "", errors.New("Enter the account's handle without spaces, e.g. hospital.bsky.social.")
	}
	return h, nil
}

// Method names the adapter.
func (*Bluesky) Method() string { return "bluesky" }

// Format counts graphemes and marks links as facets.
func (*Bluesky) Format(_ context.Context, _ Account, p Post) (Formatted, error) {
	return formatWith(p, Rules["bluesky"])
}

type atSession struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	Did        string `json:"did"`
}

const postCollection = "app.bsky.feed.post"

// Publish signs in, uploads each image as a blob and creates the post
// record. The record key is derived from the idempotency key, so an attempt
// retried after a lost answer finds the post it already made.
func (b *Bluesky) Publish(ctx context.Context, acct Account, f Formatted, media []MediaFile) (ExternalRef, error) {
	sess, err := b.session(ctx, acct)
	if err != nil {
		return ExternalRef{}, err
	}
	rkey := tidFromKey(acct.Key)
	var existing struct{ URI string }
	if err := b.call(ctx, acct, sess, http.MethodGet, "com.atproto.repo.getRecord?"+url.Values{"repo": {sess.Did}, "collection": {postCollection}, "rkey": {rkey}}.Encode(), nil, "", &existing); err == nil && existing.URI != "" {
		return b.ref(acct, existing.URI), nil
	}
	record := map[string]any{"$type": postCollection, "text": f.Text, "createdAt": time.Now().UTC().Format(time.RFC3339Nano)}
	if lang := postLanguage(f.Text); lang != "" {
		record["langs"] = []string{lang}
	}
	if len(f.Facets) > 0 {
		var facets []map[string]any
		for _, fc := range f.Facets {
			facets = append(facets, map[string]any{
				"index":    map[string]int{"byteStart": fc.ByteStart, "byteEnd": fc.ByteEnd},
				"features": []map[string]string{{"$type": "app.bsky.richtext.facet#link", "uri": fc.URI}},
			})
		}
		record["facets"] = facets
	}
	var images []map[string]any
	for _, m := range media {
		var up struct {
			Blob json.RawMessage `json:"blob"`
		}
		if err := b.call(ctx, acct, sess, http.MethodPost, "com.atproto.repo.uploadBlob", bytes.NewReader(m.Data), m.ContentType, &up); err != nil {
			return ExternalRef{}, err
		}
		img := map[string]any{"alt": m.Alt, "image": up.Blob}
		if m.Width > 0 && m.Height > 0 {
			img["aspectRatio"] = map[string]int{"width": m.Width, "height": m.Height}
		}
		images = append(images, img)
	}
	if len(images) > 0 {
		record["embed"] = map[string]any{"$type": "app.bsky.embed.images", "images": images}
	}
	body, _ := json.Marshal(map[string]any{"repo": sess.Did, "collection": postCollection, "rkey": rkey, "record": record})
	var out struct{ URI, CID string }
	if err := b.call(ctx, acct, sess, http.MethodPost, "com.atproto.repo.createRecord", bytes.NewReader(body), "application/json", &out); err != nil {
		return ExternalRef{}, err
	}
	return b.ref(acct, out.URI), nil
}

// ref keeps the at:// URI as id and links the post on bsky.app.
func (b *Bluesky) ref(acct Account, uri string) ExternalRef {
	parts := strings.Split(strings.TrimPrefix(uri, "at://"), "/")
	r := ExternalRef{ID: uri}
	if len(parts) == 3 {
		r.URL = "https://bsky.app/profile/" + acct.Handle + "/post/" + parts[2]
	}
	return r
}

// Delete removes the record named by the at:// URI; deleting a record that
// no longer exists succeeds in AT Protocol, and a 404 counts as gone.
func (b *Bluesky) Delete(ctx context.Context, acct Account, ref ExternalRef) error {
	parts := strings.Split(strings.TrimPrefix(ref.ID, "at://"), "/")
	if len(parts) != 3 {
		return errors.New("bluesky: not a record URI: " + ref.ID)
	}
	sess, err := b.session(ctx, acct)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"repo": parts[0], "collection": parts[1], "rkey": parts[2]})
	return b.call(ctx, acct, sess, http.MethodPost, "com.atproto.repo.deleteRecord", bytes.NewReader(body), "application/json", nil)
}

func sessionKey(acct Account) string {
	h := sha256.Sum256([]byte(acct.Secret))
	return acct.URL + "|" + acct.Handle + "|" + hex.EncodeToString(h[:8])
}

// session returns the kept session for acct, signing in only when there is
// none (first use, a changed app password, or a refresh that failed).
func (b *Bluesky) session(ctx context.Context, acct Account) (*atSession, error) {
	b.mu.Lock()
	s := b.sessions[sessionKey(acct)]
	b.mu.Unlock()
	if s != nil {
		c := *s // the caller's own copy: call may renew it
		return &c, nil
	}
	return b.signIn(ctx, acct)
}

func (b *Bluesky) signIn(ctx context.Context, acct Account) (*atSession, error) {
	var s atSession
	id := acct.Handle
	if h, err := NormalizeHandle(id); err == nil {
		id = h // saved before handles were checked, e.g. "@hospital.test"
	}
	body, _ := json.Marshal(map[string]string{"identifier": id, "password": acct.Secret})
	b.SignIns.Add(1)
	if err := b.do(ctx, acct, "", http.MethodPost, "com.atproto.server.createSession", bytes.NewReader(body), "application/json", &s); err != nil {
		return nil, err
	}
	b.keep(acct, &s)
	return &s, nil
}

func (b *Bluesky) keep(acct Account, s *atSession) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s == nil {
		delete(b.sessions, sessionKey(acct))
		return
	}
	c := *s
	b.sessions[sessionKey(acct)] = &c
}

// renew gets a new access token with the refresh token, or signs in again.
func (b *Bluesky) renew(ctx context.Context, acct Account, old *atSession) (*atSession, error) {
	if old != nil && old.RefreshJwt != "" {
		var s atSession
		if err := b.do(ctx, acct, old.RefreshJwt, http.MethodPost, "com.atproto.server.refreshSession", nil, "", &s); err == nil && s.AccessJwt != "" {
			b.keep(acct, &s)
			return &s, nil
		}
	}
	b.keep(acct, nil)
	return b.signIn(ctx, acct)
}

// call makes an authenticated XRPC call; an expired or refused access token
// is renewed once (refresh token, else a new sign-in) and the call repeated.
func (b *Bluesky) call(ctx context.Context, acct Account, s *atSession, method, nsid string, body io.Reader, ctype string, out any) error {
	var buf []byte
	if body != nil {
		var err error
		if buf, err = io.ReadAll(body); err != nil {
			return err
		}
	}
	reader := func() io.Reader {
		if buf == nil {
			return nil
		}
		return bytes.NewReader(buf)
	}
	err := b.do(ctx, acct, s.AccessJwt, method, nsid, reader(), ctype, out)
	if !tokenRefused(err) {
		return err
	}
	ns, rerr := b.renew(ctx, acct, s)
	if rerr != nil {
		return rerr
	}
	*s = *ns
	return b.do(ctx, acct, s.AccessJwt, method, nsid, reader(), ctype, out)
}

// tokenRefused: the PDS answered 401, or 400 ExpiredToken/InvalidToken.
func tokenRefused(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, ": HTTP 401:") || strings.Contains(msg, "ExpiredToken") || strings.Contains(msg, "InvalidToken")
}

func (b *Bluesky) do(ctx context.Context, acct Account, token, method, nsid string, body io.Reader, ctype string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(acct.URL, "/")+"/xrpc/"+nsid, body)
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	name, _, _ := strings.Cut(nsid, "?")
	if err := checkResponse(res, "bluesky "+name); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// tidFromKey makes a valid AT Protocol TID (13 base32-sortable characters)
// from the idempotency key, so every attempt of one delivery uses one rkey.
func tidFromKey(key string) string {
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	h := uint64(1469598103934665603)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	// Top bit zero; a plausible microsecond timestamp keeps it sortable.
	v := (uint64(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro())+(h>>20)%(1<<40))<<10 | (h & 1023)
	v &^= 1 << 63
	out := make([]byte, 13)
	for i := 12; i >= 0; i-- {
		out[i] = alphabet[v&31]
		v >>= 5
	}
	return string(out)
}

// postLanguage is the BCP-47 language of the post's text for the record's
// langs, when it can be told reliably (none is better than a wrong one).
func postLanguage(text string) string {
	plain := urlRE.ReplaceAllString(text, " ")
	info := whatlanggo.Detect(plain)
	if !info.IsReliable() {
		return ""
	}
	return info.Lang.Iso6391()
}
