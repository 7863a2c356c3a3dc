package app

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/models"
)

// ErrDataKeyMismatch is returned at start when this replica's data keys
// cannot open data other replicas (or an earlier key) sealed.
var ErrDataKeyMismatch = errors.New("data key mismatch")

// CheckDataKey opens a few of the newest sealed values in the database
// (patient dates of birth and emails, two-step sign-in secrets). A replica
// whose keys cannot open them would fail on every read of that data, so it
// refuses to start instead, with a message saying what to fix. An empty
// database passes.
func CheckDataKey(ctx context.Context, gdb *gorm.DB, keys *crypto.Keyring) error {
	type probe struct{ sealed, aad, what string }
	var probes []probe
	var ps []models.Patient
	if err := gdb.WithContext(ctx).Select("id, dob_sealed, email_sealed").Where("dob_sealed <> '' OR email_sealed <> ''").
		Order("created_at DESC").Limit(3).Find(&ps).Error; err != nil {
		return fmt.Errorf("data key check: %w", err)
	}
	for _, p := range ps {
		if p.DOBSealed != "" {
			probes = append(probes, probe{p.DOBSealed, "patient:" + p.ID + ":dob", "a patient record"})
		} else {
			probes = append(probes, probe{p.EmailSealed, "patient:" + p.ID + ":email", "a patient record"})
		}
	}
	var us []models.User
	if err := gdb.WithContext(ctx).Select("id, totp_secret").Where("totp_secret <> ''").Order("created_at DESC").Limit(2).Find(&us).Error; err != nil {
		return fmt.Errorf("data key check: %w", err)
	}
	for _, u := range us {
		probes = append(probes, probe{u.TOTPSecret, "user:" + u.ID + ":totp", "a staff two-step sign-in secret"})
	}
	for _, p := range probes {
		if _, err := keys.Open(p.sealed, p.aad); err != nil {
			return fmt.Errorf("%w: this replica's data key (STORYKEEP_ENCRYPTION_KEYS, or the key generated in STORYKEEP_DATA_DIR/keys) cannot open %s already in the database (%v). "+
				"Every replica must use the same data keys: set STORYKEEP_ENCRYPTION_KEYS to the keys the other replicas use (keep older keys listed after the newest). Refusing to start",
				ErrDataKeyMismatch, p.what, err)
		}
	}
	return nil
}
