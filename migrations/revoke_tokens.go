package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// revokeTokensHashOnly (migration 150, issue 19 item 6) leaves the
// revocation credential in the database only as a hash.
//
//   - consent_revoke_tokens holds the SHA-256 of every revocation link issued
//     (the one on the patient's completion page and the one in each
//     certificate email), so a link stays usable without its text being kept.
//     The hashes records already had are copied in.
//   - consent_requests.revoke_token_sealed, the token encrypted under the data
//     key so the certificate job could email it, is dropped: whoever holds the
//     data key and a copy of the database could otherwise revoke any consent.
//     The job now issues a fresh link when it sends the email.
//   - consent_records.revoke_token_hash is no longer unique: new records
//     leave it empty.
//   - Authorization texts written before the form stopped printing the link
//     still carry "…/r/<token>": the link is replaced by a note and its hash
//     added to consent_revoke_tokens, so the link the patient holds keeps
//     working. Those records predate signed-scope digests (their text was
//     not hashed into one), so their verification is unchanged.
//
// Certificates already issued are sealed PDFs in object storage and cannot
// change; those made before the certificate stopped printing the link still
// carry it (docs/consent-certificate.md).
func revokeTokensHashOnly(ctx context.Context, tx *sql.Tx, dialect string) error {
	mark := func(i int) string {
		if dialect == "postgres" {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	if err := execAll(ctx, tx,
		`CREATE TABLE consent_revoke_tokens (
			token_hash TEXT PRIMARY KEY,
			record_id  TEXT NOT NULL REFERENCES consent_records (id),
			issued_for TEXT NOT NULL,
			created_at TIMESTAMP NOT NULL)`,
		`CREATE INDEX consent_revoke_tokens_record_idx ON consent_revoke_tokens (record_id)`,
		`INSERT INTO consent_revoke_tokens (token_hash, record_id, issued_for, created_at)
			SELECT revoke_token_hash, id, 'before_150', created_at FROM consent_records WHERE revoke_token_hash <> ''`,
	); err != nil {
		return err
	}
	type row struct{ table, id, recordID, lang, text string }
	var rows []row
	for _, q := range []string{
		`SELECT 'consent_records', id, id, language, authorization_text FROM consent_records WHERE authorization_text LIKE '%/r/%'`,
		`SELECT 'consent_requests', q.id, COALESCE(r.id, ''), q.language, q.authorization_text FROM consent_requests q
			LEFT JOIN consent_records r ON r.request_id = q.id WHERE q.authorization_text LIKE '%/r/%'`,
	} {
		rs, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.table, &r.id, &r.recordID, &r.lang, &r.text); err != nil {
				rs.Close()
				return err
			}
			rows = append(rows, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	for _, r := range rows {
		tokens := legacyRevokeLink.FindAllStringSubmatch(r.text, -1)
		if len(tokens) == 0 {
			continue
		}
		for _, m := range tokens {
			if r.recordID == "" {
				continue // never signed: no record to revoke, the link never worked
			}
			sum := sha256.Sum256([]byte(m[1]))
			h := hex.EncodeToString(sum[:])
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_revoke_tokens WHERE token_hash = `+mark(1), h).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO consent_revoke_tokens (token_hash, record_id, issued_for, created_at) VALUES (`+
					mark(1)+`, `+mark(2)+`, 'before_150', `+mark(3)+`)`, h, r.recordID, now); err != nil {
					return err
				}
			}
		}
		note := "[personal revocation link: sent to the signer by email]"
		if r.lang == "es" {
			note = "[enlace personal para revocar: enviado por correo electrónico a quien firmó]"
		}
		text := legacyRevokeLink.ReplaceAllLiteralString(r.text, note)
		sum := sha256.Sum256([]byte(text))
		set := `authorization_text = ` + mark(1)
		args := []any{text}
		if r.table == "consent_requests" {
			set += `, authorization_sha256 = ` + mark(2)
			args = append(args, hex.EncodeToString(sum[:]))
		}
		args = append(args, r.id)
		if _, err := tx.ExecContext(ctx, `UPDATE `+r.table+` SET `+set+` WHERE id = `+mark(len(args)), args...); err != nil {
			return err
		}
	}
	// New records keep no revocation hash of their own (the links are in
	// consent_revoke_tokens), so the column is no longer unique.
	return execAll(ctx, tx, `ALTER TABLE consent_requests DROP COLUMN revoke_token_sealed`,
		`DROP INDEX consent_records_revoke_idx`, `CREATE INDEX consent_records_revoke_idx ON consent_records (revoke_token_hash)`)
}

// legacyRevokeLink matches a revocation link as older forms printed it: an
// optional scheme and host, /r/ and the 43-character base64url token.
var legacyRevokeLink = regexp.MustCompile(`(?:https?://[^\s)\]<>"]*)?/r/([A-Za-z0-9_-]{43})`)
