package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Bluesky posts through the AT Protocol XRPC API of the account's PDS with
// an app password (never the main password).
type Bluesky struct{ hc *http.Client }

// NewBluesky returns the Bluesky adapter.
func NewBluesky(hc *http.Client) *Bluesky { return &Bluesky{hc: hc} }

// Method names the adapter.
func (*Bluesky) Method() string { return "bluesky" }

// Format counts graphemes and marks links as facets.
func (*Bluesky) Format(_ context.Context, _ Account, p Post) (Formatted, error) {
	return formatWith(p, Rules["bluesky"])
}

type atSession struct {
	AccessJwt string `json:"accessJwt"`
	Did       string `json:"did"`
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
	record := map[string]any{"$type": postCollection, "text": f.Text, "createdAt": time.Now().UTC().Format(time.RFC3339Nano), "langs": []string{"en"}}
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

func (b *Bluesky) session(ctx context.Context, acct Account) (atSession, error) {
	var s atSession
	body, _ := json.Marshal(map[string]string{"identifier": acct.Handle, "password": acct.Secret})
	err := b.call(ctx, acct, atSession{}, http.MethodPost, "com.atproto.server.createSession", bytes.NewReader(body), "application/json", &s)
	return s, err
}

func (b *Bluesky) call(ctx context.Context, acct Account, s atSession, method, nsid string, body io.Reader, ctype string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(acct.URL, "/")+"/xrpc/"+nsid, body)
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if s.AccessJwt != "" {
		req.Header.Set("Authorization", "Bearer "+s.AccessJwt)
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
