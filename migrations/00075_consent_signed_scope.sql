-- The signed scope (issue 18, consent review gap 1): a second digest on
-- each consent record over what the patient chose, not only what was
-- offered, and the hashes of the exact authorization text and e-sign
-- disclosure shown. Records signed before this have an empty scope digest.
-- The identity check before a revocation (issue 19 item 6) keeps its code
-- hash and failed tries on the record.

-- +goose Up
ALTER TABLE consent_records ADD COLUMN scope_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN authorization_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN esign_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN esign_language TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN signer_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN revoke_code_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN revoke_code_expires_at TIMESTAMP;
ALTER TABLE consent_records ADD COLUMN revoke_failures INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE consent_records DROP COLUMN revoke_failures;
ALTER TABLE consent_records DROP COLUMN revoke_code_expires_at;
ALTER TABLE consent_records DROP COLUMN revoke_code_hash;
ALTER TABLE consent_records DROP COLUMN signer_kind;
ALTER TABLE consent_records DROP COLUMN esign_language;
ALTER TABLE consent_records DROP COLUMN esign_sha256;
ALTER TABLE consent_records DROP COLUMN authorization_sha256;
ALTER TABLE consent_records DROP COLUMN scope_digest;
