-- Resumable uploads: a large file arrives in chunks, each stored as an object
-- under staging/<upload id>/ so any replica can take the next one; on
-- completion the chunks are streamed through the media pipeline in order.

-- +goose Up
CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    owner_type  TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    file_name   TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    received    BIGINT NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX uploads_updated_idx ON uploads (updated_at);
