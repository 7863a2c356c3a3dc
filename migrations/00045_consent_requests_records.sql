-- Consent requests (a HIPAA authorization sent to a patient, 45 CFR 164.508)
-- and consent records (the immutable evidence of a signed one). Links are
-- single-use tokens of which only the SHA-256 is stored. A record row is
-- written once and afterwards only its status columns change (revoked,
-- expired, superseded), so what the patient signed can always be shown.

-- +goose Up
CREATE TABLE consent_requests (
    id                   TEXT PRIMARY KEY,
    story_id             TEXT NOT NULL REFERENCES stories (id),
    patient_id           TEXT NOT NULL REFERENCES patients (id),
    story_revision       INTEGER NOT NULL,
    signer_kind          TEXT NOT NULL,
    language             TEXT NOT NULL,
    template_id          TEXT NOT NULL REFERENCES consent_templates (id),
    template_version     INTEGER NOT NULL,
    template_text_sha256 TEXT NOT NULL,
    authorization_text   TEXT NOT NULL,
    authorization_sha256 TEXT NOT NULL,
    frozen_json          TEXT NOT NULL,
    digest               TEXT NOT NULL,
    channels             TEXT NOT NULL,
    media_ids            TEXT NOT NULL,
    name_usage           TEXT NOT NULL,
    max_expires_on       TIMESTAMP NOT NULL,
    token_hash           TEXT NOT NULL,
    revoke_token_hash    TEXT NOT NULL,
    revoke_token_sealed  TEXT NOT NULL,
    verify_method        TEXT NOT NULL DEFAULT '',
    code_hash            TEXT NOT NULL DEFAULT '',
    code_expires_at      TIMESTAMP NULL,
    failures             INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL,
    expires_at           TIMESTAMP NOT NULL,
    sent_at              TIMESTAMP NOT NULL,
    opened_at            TIMESTAMP NULL,
    opened_ip            TEXT NOT NULL DEFAULT '',
    verified_at          TIMESTAMP NULL,
    verified_ip          TEXT NOT NULL DEFAULT '',
    completed_at         TIMESTAMP NULL,
    reminders_sent       INTEGER NOT NULL DEFAULT 0,
    decline_reason       TEXT NOT NULL DEFAULT '',
    created_by           TEXT NOT NULL REFERENCES users (id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX consent_requests_token_idx ON consent_requests (token_hash);
CREATE INDEX consent_requests_story_idx ON consent_requests (story_id, created_at);
CREATE INDEX consent_requests_status_idx ON consent_requests (status, expires_at);

CREATE TABLE consent_records (
    id                   TEXT PRIMARY KEY,
    request_id           TEXT NOT NULL REFERENCES consent_requests (id),
    story_id             TEXT NOT NULL REFERENCES stories (id),
    patient_id           TEXT NOT NULL REFERENCES patients (id),
    digest               TEXT NOT NULL,
    frozen_json          TEXT NOT NULL,
    template_id          TEXT NOT NULL,
    template_version     INTEGER NOT NULL,
    template_text_sha256 TEXT NOT NULL,
    authorization_text   TEXT NOT NULL,
    language             TEXT NOT NULL,
    channels             TEXT NOT NULL,
    media_ids            TEXT NOT NULL,
    name_usage           TEXT NOT NULL,
    expires_on           TIMESTAMP NOT NULL,
    signer_name          TEXT NOT NULL,
    rep_name             TEXT NOT NULL DEFAULT '',
    rep_relationship     TEXT NOT NULL DEFAULT '',
    rep_authority        TEXT NOT NULL DEFAULT '',
    minor                BOOLEAN NOT NULL DEFAULT FALSE,
    majority_on          TIMESTAMP NULL,
    signature_key        TEXT NOT NULL,
    signature_sha256     TEXT NOT NULL,
    signature_typed      BOOLEAN NOT NULL DEFAULT FALSE,
    certificate_key      TEXT NOT NULL DEFAULT '',
    certificate_sha256   TEXT NOT NULL DEFAULT '',
    esign_agreed         BOOLEAN NOT NULL,
    ip                   TEXT NOT NULL,
    user_agent           TEXT NOT NULL,
    sent_at              TIMESTAMP NOT NULL,
    opened_at            TIMESTAMP NULL,
    verified_at          TIMESTAMP NULL,
    signed_at            TIMESTAMP NOT NULL,
    revoke_token_hash    TEXT NOT NULL,
    status               TEXT NOT NULL,
    revoked_at           TIMESTAMP NULL,
    revoke_reason        TEXT NOT NULL DEFAULT '',
    ended_at             TIMESTAMP NULL,
    acted_in_reliance    TEXT NOT NULL DEFAULT '',
    renewal_notified_at  TIMESTAMP NULL,
    majority_notified_at TIMESTAMP NULL,
    created_at           TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX consent_records_request_idx ON consent_records (request_id);
CREATE UNIQUE INDEX consent_records_revoke_idx ON consent_records (revoke_token_hash);
CREATE INDEX consent_records_story_idx ON consent_records (story_id, status);
CREATE INDEX consent_records_expiry_idx ON consent_records (status, expires_on);

-- Every staff role sees a story's consents and certificates; storytellers
-- send requests for their own stories, admins for any.
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'consent', 'view',     '', '', ''),
    ('p', 'storyteller', 'consent', 'view',     '', '', ''),
    ('p', 'reviewer',    'consent', 'view',     '', '', ''),
    ('p', 'publisher',   'consent', 'view',     '', '', ''),
    ('p', 'admin',       'consent', 'send',     '', '', ''),
    ('p', 'admin',       'consent', 'send_own', '', '', ''),
    ('p', 'storyteller', 'consent', 'send_own', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE v1 = 'consent';
DROP TABLE consent_records;
DROP TABLE consent_requests;
