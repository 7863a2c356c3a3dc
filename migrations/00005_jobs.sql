-- Durable background jobs (renditions, reminders, expiry sweeps, deliveries),
-- shared safely by every replica.

-- +goose Up
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    idempotency_key TEXT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    run_at          TIMESTAMP NOT NULL,
    locked_by       TEXT NOT NULL DEFAULT '',
    locked_until    TIMESTAMP NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NULL
);
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (idempotency_key);
CREATE INDEX jobs_due_idx ON jobs (status, run_at);

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', 'admin', 'jobs', 'manage', '', '', '');
