-- The public website's record of what it publishes: one row per story that
-- went live on the "website" channel, with the public address (free of the
-- patient's name) and when it was withdrawn. Whether a page is shown is still
-- decided per request by the consent gate; this row says what was published
-- and when, for the page's dates, the feeds and the evidence trail.

-- +goose Up
CREATE TABLE website_publications (
    story_id         TEXT PRIMARY KEY REFERENCES stories (id),
    slug             TEXT NOT NULL,
    channels         TEXT NOT NULL DEFAULT '[]',
    revision         INTEGER NOT NULL,
    published_at     TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    withdrawn_at     TIMESTAMP NULL,
    withdrawn_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX website_publications_slug_idx ON website_publications (slug);
CREATE INDEX website_publications_live_idx ON website_publications (withdrawn_at, published_at);

-- +goose Down
DROP TABLE website_publications;
