package auth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/db"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestPasswordHashingAndPolicy(t *testing.T) {
	h, err := HashPassword("a perfectly fine passphrase")
	if err != nil || !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("%q %v", h, err)
	}
	if !CheckPassword("a perfectly fine passphrase", h) || CheckPassword("a perfectly fine passphrasE", h) {
		t.Fatal("password check wrong")
	}
	if CheckPassword("anything", "") {
		t.Fatal("empty hash must never match")
	}
	for pw, want := range map[string]string{"short": "at least 12 characters", strings.Repeat("x", 300): "at most 256", "            ": "only spaces"} {
		if err := CheckPasswordPolicy(pw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", pw, want, err)
		}
	}
	if p := RandomPassword(); len(p) != 23 || CheckPasswordPolicy(p) != nil || p == RandomPassword() {
		t.Fatalf("random password %q", p)
	}
}

func TestThrottleWindow(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	th := NewThrottle(gdb, 10*time.Minute)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	th.now = func() time.Time { return now }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if blocked, _, _ := th.Blocked(ctx, "acct:a", 3); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		if err := th.Fail(ctx, "acct:a"); err != nil {
			t.Fatal(err)
		}
	}
	blocked, wait, err := th.Blocked(ctx, "acct:a", 3)
	if err != nil || !blocked || wait != 10*time.Minute {
		t.Fatalf("want blocked for 10m: %v %v %v", blocked, wait, err)
	}
	if b, _, _ := th.Blocked(ctx, "acct:b", 3); b {
		t.Fatal("other keys are not affected")
	}
	now = now.Add(11 * time.Minute)
	if b, _, _ := th.Blocked(ctx, "acct:a", 3); b {
		t.Fatal("window over: no longer blocked")
	}
	th.Fail(ctx, "acct:a")
	if b, _, _ := th.Blocked(ctx, "acct:a", 2); b {
		t.Fatal("a new window starts from one failure")
	}
	th.Reset(ctx, "acct:a")
	var raw []string
	gdb.Raw("SELECT key FROM login_throttles").Scan(&raw)
	for _, k := range raw {
		if strings.Contains(k, "acct") {
			t.Fatal("keys must be stored hashed")
		}
	}
}

func TestSessionStoreRoundTripAndExpiry(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	s := NewSessionStore(gdb)
	if err := s.Commit("tok", []byte{0, 1, 2, 255}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit("tok", []byte("v2"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b, ok, err := s.Find("tok")
	if err != nil || !ok || string(b) != "v2" {
		t.Fatalf("%q %v %v", b, ok, err)
	}
	s.Commit("old", []byte("x"), time.Now().Add(-time.Second))
	if _, ok, _ := s.Find("old"); ok {
		t.Fatal("expired session must not be found")
	}
	if err := s.DeleteExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int64
	gdb.Table("sessions").Count(&n)
	if n != 1 {
		t.Fatalf("%d sessions left", n)
	}
	s.Delete("tok")
	if _, ok, _ := s.Find("tok"); ok {
		t.Fatal("deleted")
	}
}

// TestSessionStoreSkipsExpiryOnlyWrites: a commit that only pushes the expiry
// forward by less than RefreshEvery does not write; a data change or an older
// stored expiry does.
func TestSessionStoreSkipsExpiryOnlyWrites(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	s := NewSessionStore(gdb)
	stored := func() time.Time {
		var row struct{ Expiry time.Time }
		gdb.Raw("SELECT expiry FROM sessions WHERE token = 'tok'").Scan(&row)
		return row.Expiry
	}
	t0 := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
	s.Commit("tok", []byte("a"), t0)
	s.Commit("tok", []byte("a"), t0.Add(10*time.Second))
	if !stored().Equal(t0) {
		t.Fatalf("expiry-only change within RefreshEvery should not write: %v", stored())
	}
	s.Commit("tok", []byte("a"), t0.Add(RefreshEvery+time.Second))
	if !stored().Equal(t0.Add(RefreshEvery + time.Second)) {
		t.Fatal("a stale expiry must be rewritten")
	}
	s.Commit("tok", []byte("b"), t0.Add(RefreshEvery+2*time.Second))
	if b, _, _ := s.Find("tok"); string(b) != "b" {
		t.Fatal("changed data must be written")
	}
	// Another replica (another store) sees the write.
	if b, ok, _ := NewSessionStore(gdb).Find("tok"); !ok || string(b) != "b" {
		t.Fatal("other replica")
	}
}

// TestSessionStoreLoadsItsUser: a session whose data names a user loads that
// user, current as of the query (a disabled account shows as disabled), for
// the request that readied its context; a request asking about another id,
// a session without a user, or a deleted user gets nothing and must look up.
func TestSessionStoreLoadsItsUser(t *testing.T) {
	gdb, _ := dbtest.Open(t)
	s := NewSessionStore(gdb)
	now := time.Now().UTC()
	u := models.User{ID: "u1", Email: "ana@hospital.test", Name: "Ana", Role: models.RoleReviewer, PasswordHash: "h", CreatedAt: now, UpdatedAt: now}
	if err := gdb.Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	data, err := scs.GobCodec{}.Encode(now.Add(time.Hour), map[string]any{UserKey: "u1", "flash": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	anon, _ := scs.GobCodec{}.Encode(now.Add(time.Hour), map[string]any{"flash": "hi"})
	s.Commit("signed-in", data, now.Add(time.Hour))
	s.Commit("anonymous", anon, now.Add(time.Hour))
	find := func(token, id string) (*models.User, bool) {
		ctx := WithSessionUser(context.Background())
		b, ok, err := s.FindCtx(ctx, token)
		if err != nil || !ok || len(b) == 0 {
			t.Fatalf("%s: %v %v", token, ok, err)
		}
		return SessionUser(ctx, id)
	}
	got, ok := find("signed-in", "u1")
	if !ok || got.Email != u.Email || got.Role != u.Role || got.DisabledAt != nil || !got.Active() {
		t.Fatalf("loaded user: %+v %v", got, ok)
	}
	if _, ok := find("signed-in", "someone-else"); ok {
		t.Fatal("a user was handed over for a different id")
	}
	if _, ok := find("anonymous", ""); ok {
		t.Fatal("a session without a user loaded one")
	}
	gdb.Model(&models.User{}).Where("id = 'u1'").Update("disabled_at", now)
	if got, ok := find("signed-in", "u1"); !ok || got.Active() {
		t.Fatalf("a disabled account must load as disabled: %+v", got)
	}
	gdb.Exec("DELETE FROM users WHERE id = 'u1'")
	if _, ok := find("signed-in", "u1"); ok {
		t.Fatal("a deleted user was loaded")
	}
	if _, ok := SessionUser(context.Background(), "u1"); ok {
		t.Fatal("a context that was not readied carries a user")
	}
}

// TestSessionStoreReadsThroughTheReader: with UseReader (SQLite's read-only
// pool) sessions are looked up there and still written to the main handle,
// and a session committed is found by the next lookup.
func TestSessionStoreReadsThroughTheReader(t *testing.T) {
	cfg := config.DB{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "s.db")}
	w, err := db.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	r, err := db.OpenReader(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSessionStore(w)
	s.UseReader(r)
	now := time.Now().UTC()
	if err := w.Create(&models.User{ID: "u1", Email: "ana@hospital.test", Name: "Ana", Role: models.RoleReviewer, PasswordHash: "h", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	data, _ := SessionCodec{}.Encode(now.Add(time.Hour), map[string]any{UserKey: "u1"})
	if err := s.Commit("tok", data, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx := WithSessionUser(context.Background())
	if _, ok, err := s.FindCtx(ctx, "tok"); !ok || err != nil {
		t.Fatalf("the committed session was not found: %v %v", ok, err)
	}
	if u, ok := SessionUser(ctx, "u1"); !ok || u.Email != "ana@hospital.test" {
		t.Fatal("the session's user was not loaded with it")
	}
	sqlW, _ := w.DB()
	sqlW.Close()
	if _, ok, err := s.FindCtx(context.Background(), "tok"); !ok || err != nil {
		t.Fatalf("lookup did not go through the reader: %v %v", ok, err)
	}
	if err := s.Commit("tok2", data, now.Add(time.Hour)); err == nil {
		t.Fatal("a commit went somewhere other than the main handle")
	}
}
