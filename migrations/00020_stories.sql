-- Stories: current state, revisions (immutable snapshots), autosaved drafts,
-- the timeline of workflow events, and PHI finding acknowledgements. Full-text
-- search is dialect-specific and lives in the Go migration 21.

-- +goose Up
CREATE TABLE stories (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    channel_copy TEXT NOT NULL DEFAULT '{}',
    owner_id     TEXT NOT NULL REFERENCES users (id),
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    interview_id TEXT NULL REFERENCES interviews (id),
    stage        TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX stories_slug_idx ON stories (slug);
CREATE INDEX stories_updated_idx ON stories (updated_at, id);
CREATE INDEX stories_stage_idx ON stories (stage, updated_at, id);
CREATE INDEX stories_owner_idx ON stories (owner_id, updated_at, id);
CREATE INDEX stories_patient_idx ON stories (patient_id);

CREATE TABLE story_tags (
    story_id TEXT NOT NULL REFERENCES stories (id),
    tag      TEXT NOT NULL,
    PRIMARY KEY (story_id, tag)
);
CREATE INDEX story_tags_tag_idx ON story_tags (tag, story_id);

CREATE TABLE story_channels (
    story_id TEXT NOT NULL REFERENCES stories (id),
    channel  TEXT NOT NULL,
    PRIMARY KEY (story_id, channel)
);
CREATE INDEX story_channels_channel_idx ON story_channels (channel, story_id);

CREATE TABLE story_collaborators (
    story_id TEXT NOT NULL REFERENCES stories (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (story_id, user_id)
);
CREATE INDEX story_collaborators_user_idx ON story_collaborators (user_id);

CREATE TABLE story_revisions (
    id            TEXT PRIMARY KEY,
    story_id      TEXT NOT NULL REFERENCES stories (id),
    number        INTEGER NOT NULL,
    author_id     TEXT NOT NULL REFERENCES users (id),
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    body          TEXT NOT NULL,
    tags          TEXT NOT NULL,
    channels      TEXT NOT NULL,
    channel_copy  TEXT NOT NULL,
    restored_from INTEGER NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX story_revisions_number_idx ON story_revisions (story_id, number);

CREATE TABLE story_drafts (
    story_id      TEXT NOT NULL REFERENCES stories (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    base_revision INTEGER NOT NULL,
    data          TEXT NOT NULL,
    saved_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (story_id, user_id)
);

CREATE TABLE story_events (
    id         TEXT PRIMARY KEY,
    story_id   TEXT NOT NULL REFERENCES stories (id),
    at         TIMESTAMP NOT NULL,
    actor_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    from_stage TEXT NOT NULL DEFAULT '',
    to_stage   TEXT NOT NULL DEFAULT '',
    revision   INTEGER NOT NULL,
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX story_events_story_idx ON story_events (story_id, at);

CREATE TABLE story_phi_acks (
    story_id    TEXT NOT NULL REFERENCES stories (id),
    revision    INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    at          TIMESTAMP NOT NULL,
    PRIMARY KEY (story_id, revision, fingerprint)
);

-- Everyone on staff reads stories; storytellers create and edit their own;
-- the workflow table (app/workflow) decides which transition each role may make.
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'stories', 'view',       '', '', ''),
    ('p', 'storyteller', 'stories', 'view',       '', '', ''),
    ('p', 'reviewer',    'stories', 'view',       '', '', ''),
    ('p', 'publisher',   'stories', 'view',       '', '', ''),
    ('p', 'admin',       'stories', 'create',     '', '', ''),
    ('p', 'storyteller', 'stories', 'create',     '', '', ''),
    ('p', 'admin',       'stories', 'edit',       '', '', ''),
    ('p', 'admin',       'stories', 'edit_own',   '', '', ''),
    ('p', 'storyteller', 'stories', 'edit_own',   '', '', ''),
    ('p', 'admin',       'stories', 'transition', '', '', ''),
    ('p', 'storyteller', 'stories', 'transition', '', '', ''),
    ('p', 'reviewer',    'stories', 'transition', '', '', ''),
    ('p', 'publisher',   'stories', 'transition', '', '', ''),
    ('p', 'reviewer',    'stories', 'review',     '', '', '');
