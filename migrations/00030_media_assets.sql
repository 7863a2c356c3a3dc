-- Media assets: one row per stored object (photo, video, audio) attached to a
-- story or an interview. A row is written only after its object is safely
-- stored; `storykeep media check` finds rows without objects and objects
-- without rows.

-- +goose Up
CREATE TABLE media_assets (
    id            TEXT PRIMARY KEY,
    owner_type    TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    duration_ms   BIGINT NOT NULL DEFAULT 0,
    storage_key   TEXT NOT NULL,
    original_key  TEXT NOT NULL DEFAULT '',
    file_name     TEXT NOT NULL DEFAULT '',
    alt_text      TEXT NOT NULL DEFAULT '',
    caption       TEXT NOT NULL DEFAULT '',
    focal_x       INTEGER NOT NULL DEFAULT 500,
    focal_y       INTEGER NOT NULL DEFAULT 500,
    degraded      TEXT NOT NULL DEFAULT '',
    uploaded_by   TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX media_assets_owner_idx ON media_assets (owner_type, owner_id);
CREATE UNIQUE INDEX media_assets_key_idx ON media_assets (storage_key);
