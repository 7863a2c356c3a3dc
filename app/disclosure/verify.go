package disclosure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// ErrTampered is returned when a stored object's bytes no longer hash to
// the SHA-256 recorded when it was stored. Nothing is sent or served.
var ErrTampered = apperr.New(http.StatusConflict, "A stored photo's bytes no longer match the checksum recorded when it was stored, so it was not sent. An administrator has been told (audit log: media.tampered).")

// Verifier checks stored bytes before they leave. A verified object is
// remembered by key, recorded hash, size and modification time for TTL,
// so the public website does not hash an image on every request; a
// changed object (new size or time) is hashed again at once.
type Verifier struct {
	Store storage.Store
	Audit *audit.Log
	TTL   time.Duration

	mu   sync.Mutex
	seen map[string]time.Time
}

// NewVerifier returns a verifier remembering results for ten minutes.
func NewVerifier(store storage.Store, log *audit.Log) *Verifier {
	return &Verifier{Store: store, Audit: log, TTL: 10 * time.Minute, seen: map[string]time.Time{}}
}

// Hash streams the object at key through SHA-256.
func Hash(ctx context.Context, store storage.Store, key string) (string, error) {
	rc, _, err := store.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify returns nil when the object at key hashes to want (hex), using a
// remembered result when the object is unchanged; otherwise it audits
// media.tampered (objectID names the asset) and returns ErrTampered.
func (v *Verifier) Verify(ctx context.Context, objectID, key, want string) error {
	info, err := v.Store.Stat(ctx, key)
	if err != nil {
		return err
	}
	ck := key + "|" + want + "|" + info.ModTime.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(info.Size, 10)
	v.mu.Lock()
	at, ok := v.seen[ck]
	v.mu.Unlock()
	if ok && time.Since(at) < v.TTL {
		return nil
	}
	got, err := Hash(ctx, v.Store, key)
	if err != nil {
		return err
	}
	if want == "" || !strings.EqualFold(got, want) {
		if v.Audit != nil {
			if aerr := v.Audit.Record(audit.WithActor(ctx, audit.System), nil, audit.Entry{Action: "media.tampered", ObjectType: "media", ObjectID: objectID,
				Details: map[string]any{"key": key, "recorded_sha256": want, "stored_sha256": got}}); aerr != nil {
				return errors.Join(ErrTampered, aerr)
			}
		}
		return ErrTampered
	}
	v.mu.Lock()
	if len(v.seen) > 10000 {
		v.seen = map[string]time.Time{}
	}
	v.seen[ck] = time.Now()
	v.mu.Unlock()
	return nil
}

// VerifyBytes checks bytes already read (a delivery's attachment) against
// want, auditing a mismatch like Verify.
func (v *Verifier) VerifyBytes(ctx context.Context, objectID, key, want string, data []byte) error {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if want != "" && strings.EqualFold(got, want) {
		return nil
	}
	if v.Audit != nil {
		if aerr := v.Audit.Record(audit.WithActor(ctx, audit.System), nil, audit.Entry{Action: "media.tampered", ObjectType: "media", ObjectID: objectID,
			Details: map[string]any{"key": key, "recorded_sha256": want, "stored_sha256": got}}); aerr != nil {
			return errors.Join(ErrTampered, aerr)
		}
	}
	return ErrTampered
}

// Mismatch is a stored object whose bytes do not hash to the recorded
// SHA-256.
type Mismatch struct {
	AssetID, Key, Rendition string
}

// CheckStored hashes every stored asset and rendition object and compares
// it with the recorded SHA-256 (`storykeep media check`). Each mismatch is
// audited as media.tampered, which the admin audit page shows. Missing
// objects are left to assets.Check.
func CheckStored(ctx context.Context, db *gorm.DB, store storage.Store, log *audit.Log) ([]Mismatch, error) {
	v := &Verifier{Store: store, Audit: log, seen: map[string]time.Time{}}
	var out []Mismatch
	var assets []models.MediaAsset
	if err := db.WithContext(ctx).Order("id").Find(&assets).Error; err != nil {
		return nil, err
	}
	for _, a := range assets {
		err := v.Verify(ctx, a.ID, a.StorageKey, a.SHA256)
		switch {
		case errors.Is(err, ErrTampered):
			out = append(out, Mismatch{AssetID: a.ID, Key: a.StorageKey})
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return out, err
		}
	}
	var rs []models.MediaRendition
	if err := db.WithContext(ctx).Order("asset_id, name").Find(&rs).Error; err != nil {
		return nil, err
	}
	for _, r := range rs {
		err := v.Verify(ctx, r.AssetID, r.StorageKey, r.SHA256)
		switch {
		case errors.Is(err, ErrTampered):
			out = append(out, Mismatch{AssetID: r.AssetID, Key: r.StorageKey, Rendition: r.Name})
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return out, err
		}
	}
	return out, nil
}
