package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Mastodon posts through a server's REST API with an access token
// (scopes write:media, write:statuses).
type Mastodon struct {
	hc *http.Client
	// PollEvery is the wait between checks of media still processing.
	PollEvery time.Duration
	mu        sync.Mutex
	limits    map[string]mastodonLimit
}

type mastodonLimit struct {
	chars int
	at    time.Time
}

// NewMastodon returns the Mastodon adapter.
func NewMastodon(hc *http.Client) *Mastodon {
	return &Mastodon{hc: hc, PollEvery: time.Second, limits: map[string]mastodonLimit{}}
}

// Method names the adapter.
func (*Mastodon) Method() string { return "mastodon" }

// Format uses the instance's own character limit (servers raise it), read
// from /api/v2/instance and remembered for an hour; 500 when unreadable.
func (m *Mastodon) Format(ctx context.Context, acct Account, p Post) (Formatted, error) {
	r := Rules["mastodon"]
	r.Limit = m.limit(ctx, acct.URL)
	return formatWith(p, r)
}

func (m *Mastodon) limit(ctx context.Context, base string) int {
	m.mu.Lock()
	l, ok := m.limits[base]
	m.mu.Unlock()
	if ok && time.Since(l.at) < time.Hour {
		return l.chars
	}
	n := 500
	var inst struct {
		Configuration struct {
			Statuses struct {
				MaxCharacters int `json:"max_characters"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	if err := m.getJSON(ctx, Account{URL: base}, "/api/v2/instance", &inst); err == nil && inst.Configuration.Statuses.MaxCharacters > 0 {
		n = inst.Configuration.Statuses.MaxCharacters
		m.mu.Lock()
		m.limits[base] = mastodonLimit{chars: n, at: time.Now()}
		m.mu.Unlock()
	}
	return n
}

type mastodonMedia struct {
	ID  string  `json:"id"`
	URL *string `json:"url"`
}

// Publish uploads each image with its alt text as description, waits for
// processing, then posts the status with an Idempotency-Key so a retried
// attempt does not post twice.
func (m *Mastodon) Publish(ctx context.Context, acct Account, f Formatted, media []MediaFile) (ExternalRef, error) {
	var ids []string
	for _, file := range media {
		id, err := m.upload(ctx, acct, file)
		if err != nil {
			return ExternalRef{}, err
		}
		ids = append(ids, id)
	}
	form := url.Values{"status": {f.Text}, "visibility": {"public"}, "media_ids[]": ids}
	req, err := m.request(ctx, acct, http.MethodPost, "/api/v1/statuses", strings.NewReader(form.Encode()))
	if err != nil {
		return ExternalRef{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", acct.Key)
	var st struct{ ID, URL string }
	if err := m.do(req, "mastodon status", &st); err != nil {
		return ExternalRef{}, err
	}
	return ExternalRef{ID: st.ID, URL: st.URL}, nil
}

func (m *Mastodon) upload(ctx context.Context, acct Account, file MediaFile) (string, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s.jpg"`, file.AssetID))
	h.Set("Content-Type", file.ContentType)
	part, _ := w.CreatePart(h)
	_, _ = part.Write(file.Data)
	_ = w.WriteField("description", file.Alt)
	_ = w.Close()
	req, err := m.request(ctx, acct, http.MethodPost, "/api/v2/media", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	var mm mastodonMedia
	if err := m.do(req, "mastodon media", &mm); err != nil {
		return "", err
	}
	// 202: still processing (url is null); GET answers 206 until done.
	for tries := 0; mm.URL == nil; tries++ {
		if tries == 30 {
			return "", errors.New("mastodon media: still processing after 30 checks")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(m.PollEvery):
		}
		if err := m.getJSON(ctx, acct, "/api/v1/media/"+url.PathEscape(mm.ID), &mm); err != nil {
			return "", err
		}
	}
	return mm.ID, nil
}

// Delete removes the status; 404 means it is already gone.
func (m *Mastodon) Delete(ctx context.Context, acct Account, ref ExternalRef) error {
	req, err := m.request(ctx, acct, http.MethodDelete, "/api/v1/statuses/"+url.PathEscape(ref.ID), nil)
	if err != nil {
		return err
	}
	return m.do(req, "mastodon delete", nil)
}

func (m *Mastodon) request(ctx context.Context, acct Account, method, path string, body io.Reader) (*http.Request, error) {
	var req *http.Request
	var err error
	if body == nil {
		req, err = http.NewRequestWithContext(ctx, method, strings.TrimRight(acct.URL, "/")+path, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, strings.TrimRight(acct.URL, "/")+path, body)
	}
	if err != nil {
		return nil, err
	}
	if acct.Secret != "" {
		req.Header.Set("Authorization", "Bearer "+acct.Secret)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (m *Mastodon) getJSON(ctx context.Context, acct Account, path string, out any) error {
	req, err := m.request(ctx, acct, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return m.do(req, "mastodon "+path, out)
}

func (m *Mastodon) do(req *http.Request, what string, out any) error {
	res, err := m.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if err := checkResponse(res, what); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(res.Body).Decode(out)
}
