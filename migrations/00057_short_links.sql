-- Tracked short links back to a public story (/s/:code), one per story and
-- channel, and their click counts: a counter per code per day, nothing about
-- the person who clicked (no IP, cookie or user agent).

-- +goose Up
CREATE TABLE short_links (
    code       TEXT PRIMARY KEY,
    story_id   TEXT NOT NULL REFERENCES stories (id),
    channel    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX short_links_story_channel_idx ON short_links (story_id, channel);

CREATE TABLE link_clicks (
    code   TEXT NOT NULL REFERENCES short_links (code),
    day    TEXT NOT NULL,
    clicks BIGINT NOT NULL,
    PRIMARY KEY (code, day)
);
