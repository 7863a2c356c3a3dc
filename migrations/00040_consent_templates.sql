-- Consent form templates: the versioned text of the HIPAA authorization
-- (45 CFR 164.508) in each language. Rows are never edited once active or
-- retired; a signed consent keeps the id, version and text hash it showed.
-- At most one template per language is active at a time.

-- +goose Up
CREATE TABLE consent_templates (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    language     TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    text_sha256  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    activated_at TIMESTAMP NULL,
    retired_at   TIMESTAMP NULL
);
CREATE UNIQUE INDEX consent_templates_version_idx ON consent_templates (language, version);
CREATE UNIQUE INDEX consent_templates_active_idx ON consent_templates (language) WHERE status = 'active';

-- +goose Down
DROP TABLE consent_templates;
