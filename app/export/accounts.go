package export

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/models"
)

// FieldErrors are per-field messages for the channel account form.
type FieldErrors map[string]string

func (f FieldErrors) Error() string { return "export: invalid channel account" }

// Social lists the channels posts can go to (not the website, which the
// website capability publishes).
func Social() []channels.Channel {
	var out []channels.Channel
	for _, c := range channels.All {
		if _, ok := Rules[c.Key]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Methods lists the delivery methods an account for channel may use.
func Methods(channel string) []string {
	switch channel {
	case "mastodon":
		return []string{models.MethodMastodon, models.MethodWebhook, models.MethodBundle}
	case "bluesky":
		return []string{models.MethodBluesky, models.MethodWebhook, models.MethodBundle}
	}
	return []string{models.MethodWebhook, models.MethodBundle}
}

func aad(channel string) string { return "channel_account:" + channel }

// AccountInput is the admin form for one channel.
type AccountInput struct {
	Method, URL, Handle, Secret string
	Enabled                     bool
}

// Accounts returns every configured account by channel, secrets left sealed.
func (s *Service) Accounts(ctx context.Context) (map[string]models.ChannelAccount, error) {
	var rows []models.ChannelAccount
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]models.ChannelAccount{}
	for _, r := range rows {
		r.Secret = map[bool]string{true: "set", false: ""}[r.Secret != ""]
		out[r.Channel] = r
	}
	return out, nil
}

// SaveAccount validates and stores channel's account; an empty secret keeps
// the one already stored so the form never has to show it.
func (s *Service) SaveAccount(ctx context.Context, userID, channel string, in AccountInput) error {
	if _, ok := Rules[channel]; !ok {
		return apperr.NotFound("There is no such channel.")
	}
	fe := FieldErrors{}
	if !slices.Contains(Methods(channel), in.Method) {
		fe["method"] = "Choose how posts are delivered."
	}
	in.URL, in.Handle = strings.TrimSpace(in.URL), strings.TrimSpace(in.Handle)
	if in.Method != models.MethodBundle {
		if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			fe["url"] = "Enter an absolute https:// address."
		} else if err := s.outbound.CheckURL(ctx, in.URL); err != nil {
			fe["url"] = "Storykeep does not send to this address: " + err.Error() + ". An admin can allow an on-premises host with STORYKEEP_OUTBOUND_ALLOW_HOSTS."
		}
	}
	if in.Method == models.MethodBluesky && in.Handle == "" {
		fe["handle"] = "Enter the account's handle, e.g. hospital.bsky.social."
	} else if in.Method == models.MethodBluesky {
		if h, err := NormalizeHandle(in.Handle); err != nil {
			fe["handle"] = err.Error()
		} else {
			in.Handle = h
		}
	}
	var cur models.ChannelAccount
	if err := s.db.WithContext(ctx).Where("channel = ?", channel).Limit(1).Find(&cur).Error; err != nil {
		return err
	}
	secret := cur.Secret
	// A stored secret goes only to the address it was entered for: a new
	// address or method needs the secret again (F16).
	if in.Secret == "" && cur.Channel != "" && (cur.URL != in.URL || cur.Method != in.Method) {
		secret = ""
	}
	if in.Secret != "" {
		sealed, err := s.keys.Seal(in.Secret, aad(channel))
		if err != nil {
			return err
		}
		secret = sealed
	}
	if secret == "" && in.Method != models.MethodBundle {
		if cur.Secret != "" {
			fe["secret"] = "The address changed: enter the secret again for the new one."
		} else {
			fe["secret"] = map[string]string{models.MethodWebhook: "Enter the signing secret.", models.MethodMastodon: "Enter the access token.", models.MethodBluesky: "Enter an app password."}[in.Method]
		}
	}
	if len(fe) > 0 {
		return fe
	}
	row := models.ChannelAccount{Channel: channel, Method: in.Method, URL: in.URL, Handle: in.Handle, Secret: secret, Enabled: in.Enabled, UpdatedBy: userID, UpdatedAt: s.now()}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "channel_account.save", ObjectType: "channel_account", ObjectID: channel,
			Details: map[string]any{"method": in.Method, "enabled": in.Enabled, "secret_changed": in.Secret != ""}})
	})
}

// account returns channel's usable account: the bundle when none is
// configured or it is disabled.
func (s *Service) account(ctx context.Context, channel string) (Account, error) {
	return s.accountIn(s.db.WithContext(ctx), channel)
}

// accountIn reads the account through db (a transaction when inside one:
// SQLite has a single writer connection).
func (s *Service) accountIn(db *gorm.DB, channel string) (Account, error) {
	var row models.ChannelAccount
	if err := db.Where("channel = ?", channel).Limit(1).Find(&row).Error; err != nil {
		return Account{}, err
	}
	if row.Channel == "" || !row.Enabled || row.Method == models.MethodBundle {
		return Account{Channel: channel, Method: models.MethodBundle, Enabled: true}, nil
	}
	secret, err := s.keys.Open(row.Secret, aad(channel))
	if err != nil {
		return Account{}, apperr.Wrap(http.StatusConflict, "The "+channels.Label(channel)+" credentials cannot be opened; enter them again under Channels.", err)
	}
	return Account{Channel: channel, Method: row.Method, URL: row.URL, Handle: row.Handle, Secret: secret, Enabled: true}, nil
}
