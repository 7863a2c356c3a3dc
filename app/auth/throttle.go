package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/models"
)

// Throttle counts failed sign-ins per key in a fixed window, in the database
// so that limits hold across replicas. Keys are hashed: the table never holds
// an email address or an IP.
type Throttle struct {
	db     *gorm.DB
	window time.Duration
	now    func() time.Time
}

// NewThrottle returns a throttle with the given window.
func NewThrottle(db *gorm.DB, window time.Duration) *Throttle {
	return &Throttle{db: db, window: window, now: func() time.Time { return time.Now().UTC() }}
}

func hashKey(k string) string {
	h := sha256.Sum256([]byte("storykeep-throttle:" + k))
	return hex.EncodeToString(h[:16])
}

// Blocked reports whether key has reached max failures in the current window,
// and how long until it may try again.
func (t *Throttle) Blocked(ctx context.Context, key string, max int) (bool, time.Duration, error) {
	var row models.LoginThrottle
	err := t.db.WithContext(ctx).Where("key = ?", hashKey(key)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	end := row.WindowStart.Add(t.window)
	if t.now().After(end) || row.Failures < max {
		return false, 0, nil
	}
	return true, end.Sub(t.now()), nil
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	return t.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row models.LoginThrottle
		err := tx.Where("key = ?", hashKey(key)).Take(&row).Error
		now := t.now()
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return tx.Create(&models.LoginThrottle{Key: hashKey(key), Failures: 1, WindowStart: now}).Error
		case err != nil:
			return err
		case now.After(row.WindowStart.Add(t.window)):
			return tx.Model(&row).Updates(map[string]any{"failures": 1, "window_start": now}).Error
		default:
			return tx.Model(&row).Update("failures", gorm.Expr("failures + 1")).Error
		}
	})
}

// Reset forgets the failures of key (after a successful sign-in).
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.db.WithContext(ctx).Where("key = ?", hashKey(key)).Delete(&models.LoginThrottle{}).Error
}

// Claim takes one attempt for key before the attempt is checked (F15): it
// counts the attempt as a failure up front, in one conditional UPDATE, so
// parallel guesses cannot all pass a check that none has counted yet. It
// reports false, with the wait, once limit attempts are in the window. Call
// Refund when the attempt turns out right (or is not made).
func (t *Throttle) Claim(ctx context.Context, key string, limit int) (bool, time.Duration, error) {
	db := t.db.WithContext(ctx)
	k, now := hashKey(key), t.now()
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.LoginThrottle{Key: k, Failures: 0, WindowStart: now}).Error; err != nil {
		return false, 0, err
	}
	// A window that has ended starts again; of two racing resets only the
	// first matches, because it moves window_start past the cutoff.
	if err := db.Model(&models.LoginThrottle{}).Where("key = ? AND window_start < ?", k, now.Add(-t.window)).
		Updates(map[string]any{"failures": 0, "window_start": now}).Error; err != nil {
		return false, 0, err
	}
	res := db.Model(&models.LoginThrottle{}).Where("key = ? AND failures < ?", k, limit).Update("failures", gorm.Expr("failures + 1"))
	if res.Error != nil {
		return false, 0, res.Error
	}
	if res.RowsAffected == 1 {
		return true, 0, nil
	}
	var row models.LoginThrottle
	if err := db.Where("key = ?", k).Take(&row).Error; err != nil {
		return false, 0, err
	}
	return false, max(row.WindowStart.Add(t.window).Sub(now), 0), nil
}

// Refund gives back an attempt Claim took (a right password, or an attempt
// abandoned because another key was blocked).
func (t *Throttle) Refund(ctx context.Context, key string) error {
	return t.db.WithContext(ctx).Model(&models.LoginThrottle{}).Where("key = ? AND failures > 0", hashKey(key)).
		Update("failures", gorm.Expr("failures - 1")).Error
}
