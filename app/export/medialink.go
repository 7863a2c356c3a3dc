package export

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/models"
)

// mediaLinkTTL is how long a webhook receiver may fetch attached media.
const mediaLinkTTL = 7 * 24 * time.Hour

const mediaAAD = "export-media-link"

type mediaClaim struct {
	D   string `json:"d"`
	A   string `json:"a"`
	N   string `json:"n"`
	Exp int64  `json:"e"`
}

// MediaURL returns an unguessable, sealed, expiring public URL for one
// rendition sent with delivery id, so a scheduler can fetch the image
// without a Storykeep account.
func (s *Service) MediaURL(deliveryID, assetID, rendition string) (string, error) {
	b, _ := json.Marshal(mediaClaim{D: deliveryID, A: assetID, N: rendition, Exp: s.now().Add(mediaLinkTTL).Unix()})
	sealed, err := s.keys.Seal(string(b), mediaAAD)
	if err != nil {
		return "", err
	}
	return s.publicURL + "/m/" + base64.RawURLEncoding.EncodeToString([]byte(sealed)), nil
}

// OpenMedia serves a MediaURL token while it is valid and its delivery has
// not been cancelled or taken down: consent ending also ends the link.
func (s *Service) OpenMedia(ctx context.Context, token string) (io.ReadCloser, storage.Info, error) {
	gone := apperr.NotFound("This media link has expired or was withdrawn.")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, storage.Info{}, gone
	}
	plain, err := s.keys.Open(string(raw), mediaAAD)
	if err != nil {
		return nil, storage.Info{}, gone
	}
	var c mediaClaim
	if json.Unmarshal([]byte(plain), &c) != nil || time.Unix(c.Exp, 0).Before(s.now()) {
		return nil, storage.Info{}, gone
	}
	d, err := s.Delivery(ctx, c.D)
	if err != nil || strings.Contains(models.DeliveryCancelled+" "+models.DeliveryDeleted, d.State) || d.TakedownReason != "" {
		return nil, storage.Info{}, gone
	}
	var r models.MediaRendition
	if err := s.db.WithContext(ctx).Where("asset_id = ? AND name = ?", c.A, c.N).Limit(1).Find(&r).Error; err != nil || r.AssetID == "" {
		return nil, storage.Info{}, gone
	}
	// The bytes a receiver fetches are checked like those sent (cached).
	if err := s.verifier.Verify(ctx, r.AssetID, r.StorageKey, r.SHA256); err != nil {
		return nil, storage.Info{}, err
	}
	return s.store.Open(ctx, r.StorageKey)
}
