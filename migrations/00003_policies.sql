-- Casbin policies: which role may do what. Anything not listed is denied.
-- Each line is (role, object, action); the route table names the object and
-- action each route needs.

-- +goose Up
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'dashboard', 'view',   '', '', ''),
    ('p', 'storyteller', 'dashboard', 'view',   '', '', ''),
    ('p', 'reviewer',    'dashboard', 'view',   '', '', ''),
    ('p', 'publisher',   'dashboard', 'view',   '', '', ''),
    ('p', 'admin',       'account',   'manage', '', '', ''),
    ('p', 'storyteller', 'account',   'manage', '', '', ''),
    ('p', 'reviewer',    'account',   'manage', '', '', ''),
    ('p', 'publisher',   'account',   'manage', '', '', ''),
    ('p', 'admin',       'users',     'manage', '', '', ''),
    ('p', 'admin',       'audit',     'read',   '', '', '');
