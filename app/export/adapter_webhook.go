package export

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/jobs"
)

// Webhook delivers to Buffer, Zapier, Make or an in-house scheduler: a JSON
// body signed with the account's secret (docs/webhook.md). It formats for
// the channel it stands in for, so the receiver gets a post that fits.
type Webhook struct {
	hc  *http.Client
	now func() time.Time
}

// NewWebhook returns the webhook adapter.
func NewWebhook(hc *http.Client) *Webhook { return &Webhook{hc: hc, now: time.Now} }

// Method names the adapter.
func (*Webhook) Method() string { return "webhook" }

// Format applies the channel's own rule.
func (*Webhook) Format(_ context.Context, _ Account, p Post) (Formatted, error) {
	return formatWith(p, Rules[p.Channel])
}

// WebhookMedia is one image in a webhook payload.
type WebhookMedia struct {
	URL         string `json:"url"`
	Alt         string `json:"alt_text"`
	Caption     string `json:"caption,omitempty"`
	ContentType string `json:"content_type"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// WebhookPayload is the JSON body of a webhook event.
type WebhookPayload struct {
	Event          string         `json:"event"` // "publish" or "unpublish"
	IdempotencyKey string         `json:"idempotency_key"`
	StoryID        string         `json:"story_id"`
	Channel        string         `json:"channel"`
	Text           string         `json:"text,omitempty"`
	Title          string         `json:"title,omitempty"`
	Link           string         `json:"link,omitempty"`
	Media          []WebhookMedia `json:"media,omitempty"`
	ExternalID     string         `json:"external_id,omitempty"`
	SentAt         time.Time      `json:"sent_at"`
}

// Sign returns the Storykeep-Signature value for body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SecretPrefix marks a Standard Webhooks secret: "whsec_" + base64 key.
const SecretPrefix = "whsec_"

// StandardKey is the HMAC key of the Standard Webhooks signature: the
// base64-decoded part of a whsec_ secret, or any other secret's raw bytes
// (receivers then verify with the library's raw-key option).
func StandardKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook: the secret starts with whsec_ but the rest is not base64")
	}
	return key, nil
}

// StandardSign returns the webhook-signature value of the Standard
// Webhooks specification: "v1," + base64 HMAC-SHA256(key, id.timestamp.body).
func StandardSign(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Publish posts a "publish" event; the receiver's JSON answer may carry
// {"id": …, "url": …} of the post it made.
func (w *Webhook) Publish(ctx context.Context, acct Account, f Formatted, media []MediaFile) (ExternalRef, error) {
	p := WebhookPayload{Event: "publish", IdempotencyKey: acct.Key, StoryID: acct.StoryID, Channel: f.Channel, Text: f.Text, Title: f.Title, Link: f.Link, SentAt: w.now().UTC()}
	for _, m := range media {
		p.Media = append(p.Media, WebhookMedia{URL: m.URL, Alt: m.Alt, Caption: m.Caption, ContentType: m.ContentType, Width: m.Width, Height: m.Height})
	}
	var ref ExternalRef
	res, err := w.send(ctx, acct, p)
	if err != nil {
		return ref, err
	}
	defer res.Body.Close()
	if err := checkResponse(res, "webhook"); err != nil {
		return ref, err
	}
	var out struct {
		ID  any    `json:"id"`
		URL string `json:"url"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	if out.ID != nil {
		ref.ID = fmt.Sprint(out.ID)
	}
	ref.URL = out.URL
	return ref, nil
}

// Delete posts an "unpublish" event so the receiver removes what it posted.
func (w *Webhook) Delete(ctx context.Context, acct Account, ref ExternalRef) error {
	res, err := w.send(ctx, acct, WebhookPayload{Event: "unpublish", IdempotencyKey: acct.Key + ":unpublish", StoryID: acct.StoryID, Channel: acct.Channel, ExternalID: ref.ID, SentAt: w.now().UTC()})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return checkResponse(res, "webhook unpublish")
}

func (w *Webhook) send(ctx context.Context, acct Account, p WebhookPayload) (*http.Response, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	key, err := StandardKey(acct.Secret)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, acct.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Storykeep")
	req.Header.Set("Idempotency-Key", p.IdempotencyKey)
	req.Header.Set("Storykeep-Timestamp", ts)
	req.Header.Set("Storykeep-Signature", Sign(acct.Secret, ts, body))
	// Standard Webhooks: the idempotency key is the
	// message id, the same on every retry.
	req.Header.Set("webhook-id", p.IdempotencyKey)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", StandardSign(key, p.IdempotencyKey, ts, body))
	return w.hc.Do(req)
}
