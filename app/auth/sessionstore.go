package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/models"
)

// SessionStore keeps scs sessions in the sessions table, so every replica
// sees every session and a restart signs nobody out. It implements scs.Store
// and scs.CtxStore.
type SessionStore struct{ db *gorm.DB }

// NewSessionStore returns a store over db.
func NewSessionStore(db *gorm.DB) *SessionStore { return &SessionStore{db: db} }

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// FindCtx implements scs.CtxStore.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row models.Session
	err := s.db.WithContext(ctx).Where("token = ? AND expiry > ?", token, time.Now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	b, err := base64.StdEncoding.DecodeString(row.Data)
	return b, err == nil, err
}

// CommitCtx implements scs.CtxStore.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := models.Session{Token: token, Data: base64.StdEncoding.EncodeToString(b), Expiry: expiry.UTC()}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"}),
	}).Create(&row).Error
}

// DeleteCtx implements scs.CtxStore.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Where("token = ?", token).Delete(&models.Session{}).Error
}

// DeleteExpired removes expired sessions; run it periodically.
func (s *SessionStore) DeleteExpired(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("expiry <= ?", time.Now().UTC()).Delete(&models.Session{}).Error
}
