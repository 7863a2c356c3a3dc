-- The signed-in user's id beside the session data, so loading a session
-- loads its user in the same query (one round trip per page instead of
-- two). Set on every save of the session; sessions saved before this
-- migration load their user separately until their next save.

-- +goose Up
ALTER TABLE sessions ADD COLUMN user_id TEXT;

-- +goose Down
ALTER TABLE sessions DROP COLUMN user_id;
