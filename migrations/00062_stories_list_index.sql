-- The story list reads only these columns of the most recently updated
-- stories, filtered by stage or not. Stories rows carry the whole text, so
-- each list row cost a wide-row read; these indexes answer the list from
-- the index alone and replace the two they start with.

-- +goose Up
CREATE INDEX stories_list_idx ON stories (updated_at, id, stage, owner_id, revision, title, slug);
DROP INDEX stories_updated_idx;
CREATE INDEX stories_stage_list_idx ON stories (stage, updated_at, id, owner_id, revision, title, slug);
DROP INDEX stories_stage_idx;

-- +goose Down
CREATE INDEX stories_stage_idx ON stories (stage, updated_at, id);
DROP INDEX stories_stage_list_idx;
CREATE INDEX stories_updated_idx ON stories (updated_at, id);
DROP INDEX stories_list_idx;
