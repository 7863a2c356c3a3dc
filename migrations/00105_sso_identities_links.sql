-- Staff single sign-on and emailed links (issue 25).
-- user_identities ties a provider's (issuer, subject) to a staff account, so
-- a changed email at the provider still finds the same account.
-- user_links are single-use invitation and password-reset links: only a
-- SHA-256 of the token is stored; used_at marks it spent.

-- +goose Up
CREATE TABLE user_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

CREATE TABLE user_links (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX user_links_user ON user_links (user_id, purpose);

-- +goose Down
DROP TABLE user_links;
DROP TABLE user_identities;
