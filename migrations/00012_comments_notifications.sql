-- Internal staff comments on stories and the notifications their @mentions
-- create. story_id has no foreign key on purpose: the stories table arrives in
-- a later migration (00020) and comments must not depend on its order.

-- +goose Up
CREATE TABLE comments (
    id         TEXT PRIMARY KEY,
    story_id   TEXT NOT NULL,
    author_id  TEXT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_story_idx ON comments (story_id, created_at);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    actor_id   TEXT NOT NULL REFERENCES users (id),
    story_id   TEXT NOT NULL DEFAULT '',
    comment_id TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, read_at, created_at);
