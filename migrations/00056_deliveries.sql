-- Deliveries: one row per story, channel and revision sent (or scheduled) to
-- a network, with its state, the job that carries it and what the network
-- answered. Unique per revision so "post now" twice is one post.

-- +goose Up
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    story_id        TEXT NOT NULL REFERENCES stories (id),
    channel         TEXT NOT NULL,
    method          TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    state           TEXT NOT NULL,
    run_at          TIMESTAMP NOT NULL,
    job_id          TEXT NOT NULL DEFAULT '',
    delete_job_id   TEXT NOT NULL DEFAULT '',
    external_id     TEXT NOT NULL DEFAULT '',
    external_url    TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    takedown_reason TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP NULL
);
CREATE UNIQUE INDEX deliveries_story_channel_rev_idx ON deliveries (story_id, channel, revision);
CREATE INDEX deliveries_state_idx ON deliveries (state, run_at);
