-- The last TOTP time step a user signed in with (F13): a code works once,
-- and a code from an earlier step than the last one used is refused.

-- +goose Up
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN totp_last_step;
