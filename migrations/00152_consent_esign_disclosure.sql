-- +goose Up
-- The e-sign consumer disclosure shown to the signer is kept with the
-- record: its version and its exact text (with the organisation's contact
-- details, which can change later), beside its SHA-256 (esign_sha256), so
-- the certificate prints the agreement and anyone can recompute the hash
-- (issue 19 item 2). Records signed before have empty values.
ALTER TABLE consent_records ADD COLUMN esign_version TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN esign_text TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE consent_records DROP COLUMN esign_text;
ALTER TABLE consent_records DROP COLUMN esign_version;
