-- Renditions of a media asset (crops per channel, a video's poster frame),
-- made in the background by the job queue.

-- +goose Up
CREATE TABLE media_renditions (
    asset_id    TEXT NOT NULL REFERENCES media_assets (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    size_bytes  BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (asset_id, name)
);
ALTER TABLE media_assets ADD COLUMN renditions_state TEXT NOT NULL DEFAULT 'pending';

INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'media', 'upload', '', '', ''),
    ('p', 'storyteller', 'media', 'upload', '', '', ''),
    ('p', 'admin',       'media', 'view',   '', '', ''),
    ('p', 'storyteller', 'media', 'view',   '', '', ''),
    ('p', 'reviewer',    'media', 'view',   '', '', ''),
    ('p', 'publisher',   'media', 'view',   '', '', '');
