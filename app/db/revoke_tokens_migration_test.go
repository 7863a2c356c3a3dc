package db_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/db"
)

// TestRevokeTokensHashOnlyMigration (migration 150, issue 19 item 6): rows
// written before it keep no revocation token in any recoverable form. A
// request's sealed token column is gone; the /r/ links older forms printed
// in authorization texts are replaced by a note (the request's text hash is
// recomputed), and the hash of each such link, like each record's own
// revocation hash, is in consent_revoke_tokens, so the patient's link still
// works.
func TestRevokeTokensHashOnlyMigration(t *testing.T) {
	ctx := context.Background()
	gdb := migratedTo(t, 149)
	addStories(t, gdb, [3]string{"s1", "Story", "Body"})
	now := time.Now().UTC()
	oldTok := "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdE" // 43 characters
	recTok := "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210-_ZyXwV"
	hash := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	text := "## Right to revoke\n\nUse this link: https://stories.example.org/r/" + oldTok + " or write to us."
	exec := func(q string, args ...any) {
		t.Helper()
		if err := gdb.Exec(q, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO consent_templates (id, name, language, version, body, text_sha256, status, created_by, created_at, updated_at)
		VALUES ('t1', 'T', 'en', 1, 'b', 'x', 'active', 'u1', ?, ?)`, now, now)
	for _, id := range []string{"q1", "q2"} {
		exec(`INSERT INTO consent_requests (id, story_id, patient_id, story_revision, signer_kind, language, template_id, template_version,
			template_text_sha256, authorization_text, authorization_sha256, frozen_json, digest, channels, media_ids, name_usage, max_expires_on,
			token_hash, revoke_token_hash, revoke_token_sealed, status, expires_at, sent_at, created_by, created_at, updated_at)
			VALUES (?, 's1', 'p1', 1, 'patient', 'en', 't1', 1, 'x', ?, 'old', '{}', 'd', '[]', '[]', 'full', ?, ?, ?, 'sealed-token-ciphertext',
			'signed', ?, ?, 'u1', ?, ?)`, id, text, now, "tok-"+id, "rh-"+id, now, now, now, now)
	}
	exec(`INSERT INTO consent_records (id, request_id, story_id, patient_id, digest, frozen_json, template_id, template_version, template_text_sha256,
		authorization_text, language, channels, media_ids, name_usage, expires_on, signer_name, signature_key, signature_sha256, esign_agreed, ip,
		user_agent, sent_at, signed_at, revoke_token_hash, status, created_at)
		VALUES ('r1', 'q1', 's1', 'p1', 'd', '{}', 't1', 1, 'x', ?, 'en', '[]', '[]', 'full', ?, 'P', 'k', 'x', TRUE, '', '', ?, ?, ?, 'valid', ?)`,
		text, now, now, now, hash(recTok), now)

	if _, err := db.Migrate(ctx, gdb); err != nil {
		t.Fatal(err)
	}
	var texts []string
	if err := gdb.Raw(`SELECT authorization_text FROM consent_requests UNION ALL SELECT authorization_text FROM consent_records`).Scan(&texts).Error; err != nil {
		t.Fatal(err)
	}
	if len(texts) != 3 {
		t.Fatalf("%d texts", len(texts))
	}
	for _, s := range texts {
		if strings.Contains(s, oldTok) || strings.Contains(s, "/r/") || !strings.Contains(s, "[personal revocation link: sent to the signer by email]") ||
			!strings.HasSuffix(s, " or write to us.") {
			t.Errorf("text after the migration: %q", s)
		}
	}
	var req struct{ AuthorizationText, AuthorizationSha256 string }
	gdb.Raw(`SELECT authorization_text, authorization_sha256 FROM consent_requests WHERE id = 'q2'`).Scan(&req)
	if reqHash := req.AuthorizationSha256; reqHash != hash(req.AuthorizationText) {
		t.Errorf("the request's text hash was not recomputed: %s", reqHash)
	}
	var hashes []string
	if err := gdb.Raw(`SELECT token_hash FROM consent_revoke_tokens WHERE record_id = 'r1' ORDER BY token_hash`).Scan(&hashes).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{hash(oldTok), hash(recTok)}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if strings.Join(hashes, ",") != strings.Join(want, ",") {
		t.Errorf("revoke hashes %v, want %v", hashes, want)
	}
	if gdb.Migrator().HasColumn("consent_requests", "revoke_token_sealed") {
		t.Error("consent_requests.revoke_token_sealed survived")
	}
}
