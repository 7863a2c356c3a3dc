package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/models"
)

// SessionStore keeps scs sessions in the sessions table, so every replica
// sees every session and a restart signs nobody out. It implements scs.Store
// and scs.CtxStore.
//
// With an idle timeout scs re-commits the session on every request only to
// push its expiry forward; the store skips that write when the data is
// unchanged and the stored expiry was pushed less than RefreshEvery ago, so a
// page view is not a database write. The idle timeout then holds to within
// RefreshEvery.
type SessionStore struct {
	db   *gorm.DB
	mu   sync.Mutex
	seen map[string]seenSession
}

type seenSession struct {
	sum    [32]byte
	expiry time.Time
}

// RefreshEvery is how stale a stored expiry may get before it is rewritten.
const RefreshEvery = time.Minute

// NewSessionStore returns a store over db.
func NewSessionStore(db *gorm.DB) *SessionStore {
	return &SessionStore{db: db, seen: map[string]seenSession{}}
}

func (s *SessionStore) remember(token string, b []byte, expiry time.Time) {
	s.mu.Lock()
	s.seen[token] = seenSession{sum: sha256.Sum256(b), expiry: expiry}
	s.mu.Unlock()
}

func (s *SessionStore) forget(token string) {
	s.mu.Lock()
	delete(s.seen, token)
	s.mu.Unlock()
}

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
	if err == nil {
		s.remember(token, b, row.Expiry)
	}
	return b, err == nil, err
}

// CommitCtx implements scs.CtxStore.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	prev, ok := s.seen[token]
	s.mu.Unlock()
	if ok && prev.sum == sha256.Sum256(b) && !expiry.Before(prev.expiry) && expiry.Sub(prev.expiry) < RefreshEvery {
		return nil
	}
	defer s.remember(token, b, expiry.UTC())
	row := models.Session{Token: token, Data: base64.StdEncoding.EncodeToString(b), Expiry: expiry.UTC()}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"}),
	}).Create(&row).Error
}

// DeleteCtx implements scs.CtxStore.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	s.forget(token)
	return s.db.WithContext(ctx).Where("token = ?", token).Delete(&models.Session{}).Error
}

// DeleteExpired removes expired sessions; run it periodically.
func (s *SessionStore) DeleteExpired(ctx context.Context) error {
	now := time.Now()
	s.mu.Lock()
	for k, v := range s.seen {
		if v.expiry.Before(now) {
			delete(s.seen, k)
		}
	}
	s.mu.Unlock()
	return s.db.WithContext(ctx).Where("expiry <= ?", time.Now().UTC()).Delete(&models.Session{}).Error
}
