-- The story list reads only these columns of the most recently updated
-- stories. Stories rows carry the whole text, so each list row cost a
-- wide-row read; this index answers the unfiltered list from the index
-- alone and replaces stories_updated_idx, which it starts with.

-- +goose Up
CREATE INDEX stories_list_idx ON stories (updated_at, id, stage, owner_id, revision, title, slug);
DROP INDEX stories_updated_idx;

-- +goose Down
CREATE INDEX stories_updated_idx ON stories (updated_at, id);
DROP INDEX stories_list_idx;
