-- Channel accounts: how each social channel is delivered (signed webhook,
-- Mastodon API, Bluesky/AT Protocol, or the export bundle when none is set)
-- and its credentials, sealed with the keyring (app/crypto) so a database
-- dump does not hand out posting rights.

-- +goose Up
CREATE TABLE channel_accounts (
    channel    TEXT PRIMARY KEY,
    method     TEXT NOT NULL,
    url        TEXT NOT NULL DEFAULT '',
    handle     TEXT NOT NULL DEFAULT '',
    secret     TEXT NOT NULL DEFAULT '',
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);
