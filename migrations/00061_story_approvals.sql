-- Legal approval is a decision of its own, not just a stage: the reviewer
-- approves a subset of the consented channels for one revision, optionally
-- not before a given time. Exports and the website read the approval of the
-- story's current revision. Stories approved before this table existed are
-- recorded as approved for all their channels, by whoever moved them there.

-- +goose Up
CREATE TABLE story_approvals (
    id          TEXT PRIMARY KEY,
    story_id    TEXT NOT NULL REFERENCES stories (id),
    revision    INTEGER NOT NULL,
    reviewer_id TEXT NOT NULL,
    not_before  TIMESTAMP NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX story_approvals_story_idx ON story_approvals (story_id, revision, created_at);

CREATE TABLE story_approval_channels (
    approval_id TEXT NOT NULL REFERENCES story_approvals (id),
    channel     TEXT NOT NULL,
    PRIMARY KEY (approval_id, channel)
);

INSERT INTO story_approvals (id, story_id, revision, reviewer_id, not_before, created_at)
SELECT 'legacy-' || s.id, s.id, s.revision,
       COALESCE((SELECT e.actor_id FROM story_events e WHERE e.story_id = s.id AND e.to_stage = 'approved' ORDER BY e.at DESC LIMIT 1), ''),
       NULL, s.updated_at
FROM stories s WHERE s.stage IN ('approved', 'published');

INSERT INTO story_approval_channels (approval_id, channel)
SELECT 'legacy-' || sc.story_id, sc.channel
FROM story_channels sc JOIN stories s ON s.id = sc.story_id
WHERE s.stage IN ('approved', 'published');

-- +goose Down
DROP TABLE story_approval_channels;
DROP TABLE story_approvals;
