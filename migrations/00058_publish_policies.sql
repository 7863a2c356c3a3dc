-- Publishing permissions: publishers post, schedule, retry, take down and
-- download export bundles; admins and publishers see publication panels and
-- click counts; admins configure channel accounts.

-- +goose Up
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'publisher', 'publish',  'manage', '', '', ''),
    ('p', 'admin',     'publish',  'view',   '', '', ''),
    ('p', 'publisher', 'publish',  'view',   '', '', ''),
    ('p', 'admin',     'channels', 'manage', '', '', '');
