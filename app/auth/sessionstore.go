package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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
	read *gorm.DB // where FindCtx reads; db unless UseReader was called
	mu   sync.Mutex
	seen map[string]seenSession
}

type seenSession struct {
	sum    [32]byte
	expiry time.Time
}

// UserKey is the session value holding the signed-in user's id. The store
// keeps it beside the data (sessions.user_id) so FindCtx can load the user
// with the session, in one query.
const UserKey = "uid"

// RefreshEvery is how stale a stored expiry may get before it is rewritten.
const RefreshEvery = time.Minute

// NewSessionStore returns a store over db.
func NewSessionStore(db *gorm.DB) *SessionStore {
	return &SessionStore{db: db, read: db, seen: map[string]seenSession{}}
}

// UseReader makes FindCtx read through r, SQLite's read-only pool: every
// request looks its session up, and on the single writing connection those
// lookups queued behind each other and behind writes. Commits and deletes
// still go to db, and a commit is visible to the reads that follow it.
func (s *SessionStore) UseReader(r *gorm.DB) { s.read = r }

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

// FindCtx implements scs.CtxStore. It loads the session's user in the same
// query; a request whose context came through WithSessionUser gets that
// user from SessionUser instead of asking the database again.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	// Rows, not Row: with prepared statements (SQLite, see app/db) GORM's
	// Row hides a failed prepare, such as a closed database, and Scan panics.
	rows, err := s.read.WithContext(ctx).Raw(`SELECT s.data, s.expiry, u.id, u.email, u.name, u.role, u.password_hash, u.must_change_password,
		u.totp_secret, u.totp_enabled, u.disabled_at, u.last_login_at, u.created_at, u.updated_at
		FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.token = ? AND s.expiry > ?`, token, time.Now().UTC()).Rows()
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	var (
		data                string
		expiry              time.Time
		id, email, name     *string
		role, hash, totp    *string
		mustChange, totpOn  *bool
		disabled, lastLogin *time.Time
		created, updated    *time.Time
	)
	if err := rows.Scan(&data, &expiry, &id, &email, &name, &role, &hash, &mustChange, &totp, &totpOn, &disabled, &lastLogin, &created, &updated); err != nil {
		return nil, false, err
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, false, err
	}
	s.remember(token, b, expiry)
	if slot, ok := ctx.Value(sessionUserKey{}).(*sessionUser); ok && id != nil {
		slot.user = &models.User{ID: *id, Email: deref(email), Name: deref(name), Role: deref(role), PasswordHash: deref(hash),
			MustChangePassword: mustChange != nil && *mustChange, TOTPSecret: deref(totp), TOTPEnabled: totpOn != nil && *totpOn,
			DisabledAt: disabled, LastLoginAt: lastLogin, CreatedAt: derefTime(created), UpdatedAt: derefTime(updated)}
	}
	return b, true, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

type sessionUserKey struct{}

type sessionUser struct{ user *models.User }

// WithSessionUser readies ctx to carry the user FindCtx loads with the
// session (see SessionUser).
func WithSessionUser(ctx context.Context) context.Context {
	return context.WithValue(ctx, sessionUserKey{}, &sessionUser{})
}

// SessionUser returns the user loaded with this request's session, if there
// was one and its id is id (the id the session data holds). Otherwise the
// caller looks the user up itself.
func SessionUser(ctx context.Context, id string) (*models.User, bool) {
	slot, ok := ctx.Value(sessionUserKey{}).(*sessionUser)
	if !ok || slot.user == nil || slot.user.ID != id {
		return nil, false
	}
	return slot.user, true
}

// userOf reads the signed-in user's id out of scs's encoded session data;
// "" when there is none or the data is not scs's.
func userOf(b []byte) string {
	_, values, err := SessionCodec{}.Decode(b)
	if err != nil {
		return ""
	}
	id, _ := values[UserKey].(string)
	return id
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
	if uid := userOf(b); uid != "" {
		row.UserID = &uid
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry", "user_id"}),
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
