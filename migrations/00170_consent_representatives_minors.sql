-- Representatives, minors, remuneration and language access on consent
-- requests and records (issue 19 items 7, 8 and 9).
--
-- A request may be addressed to a representative with their own name,
-- relationship, authority, email and phone (email and phone sealed with the
-- data key, like the patient's). A patient under the age of majority needs
-- a representative unless staff record a reasoned exception, kept here and
-- in the audit log. A request flagged as sponsored (the organisation is paid
-- for the disclosure, 45 CFR 164.508(a)(3)/(a)(4)) names who pays; its form
-- must state it. alt_template_id is the active form in the other language
-- when the request was sent and the form filled in with it, so the signer
-- can read and sign in either language.
--
-- The record keeps the representative's attestation (statement, optional
-- document), a teenager's assent, the sponsorship and when a consent lapsed
-- at the patient's majority.

-- +goose Up
ALTER TABLE consent_requests ADD COLUMN rep_name TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN rep_relationship TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN rep_authority TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN rep_email_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN rep_phone_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN minor_exception TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN sponsored BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE consent_requests ADD COLUMN sponsor TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN alt_template_id TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_requests ADD COLUMN alt_authorization_text TEXT NOT NULL DEFAULT '';

ALTER TABLE consent_records ADD COLUMN rep_statement TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN rep_document_key TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN rep_document_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN assent_name TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN sponsored BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE consent_records ADD COLUMN sponsor TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN majority_lapsed_at TIMESTAMP NULL;
CREATE INDEX consent_records_majority_idx ON consent_records (status, minor, majority_on);

-- +goose Down
DROP INDEX consent_records_majority_idx;
ALTER TABLE consent_records DROP COLUMN majority_lapsed_at;
ALTER TABLE consent_records DROP COLUMN sponsor;
ALTER TABLE consent_records DROP COLUMN sponsored;
ALTER TABLE consent_records DROP COLUMN assent_name;
ALTER TABLE consent_records DROP COLUMN rep_document_sha256;
ALTER TABLE consent_records DROP COLUMN rep_document_key;
ALTER TABLE consent_records DROP COLUMN rep_statement;
ALTER TABLE consent_requests DROP COLUMN alt_authorization_text;
ALTER TABLE consent_requests DROP COLUMN alt_template_id;
ALTER TABLE consent_requests DROP COLUMN sponsor;
ALTER TABLE consent_requests DROP COLUMN sponsored;
ALTER TABLE consent_requests DROP COLUMN minor_exception;
ALTER TABLE consent_requests DROP COLUMN rep_phone_sealed;
ALTER TABLE consent_requests DROP COLUMN rep_email_sealed;
ALTER TABLE consent_requests DROP COLUMN rep_authority;
ALTER TABLE consent_requests DROP COLUMN rep_relationship;
ALTER TABLE consent_requests DROP COLUMN rep_name;
