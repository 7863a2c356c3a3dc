-- Who may do what with patients, interviews, comments, the inbox and
-- settings. Publishers never see patients; reviewers may read a patient's
-- details (each view audited) but not change them; every staff role may
-- comment on a story and read their own inbox.

-- +goose Up
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'patients',   'list',   '', '', ''),
    ('p', 'storyteller', 'patients',   'list',   '', '', ''),
    ('p', 'reviewer',    'patients',   'list',   '', '', ''),
    ('p', 'admin',       'patients',   'view',   '', '', ''),
    ('p', 'storyteller', 'patients',   'view',   '', '', ''),
    ('p', 'reviewer',    'patients',   'view',   '', '', ''),
    ('p', 'admin',       'patients',   'manage', '', '', ''),
    ('p', 'storyteller', 'patients',   'manage', '', '', ''),
    ('p', 'admin',       'interviews', 'view',   '', '', ''),
    ('p', 'storyteller', 'interviews', 'view',   '', '', ''),
    ('p', 'admin',       'interviews', 'manage', '', '', ''),
    ('p', 'storyteller', 'interviews', 'manage', '', '', ''),
    ('p', 'admin',       'comments',   'view',   '', '', ''),
    ('p', 'storyteller', 'comments',   'view',   '', '', ''),
    ('p', 'reviewer',    'comments',   'view',   '', '', ''),
    ('p', 'publisher',   'comments',   'view',   '', '', ''),
    ('p', 'admin',       'comments',   'create', '', '', ''),
    ('p', 'storyteller', 'comments',   'create', '', '', ''),
    ('p', 'reviewer',    'comments',   'create', '', '', ''),
    ('p', 'publisher',   'comments',   'create', '', '', ''),
    ('p', 'admin',       'inbox',      'view',   '', '', ''),
    ('p', 'storyteller', 'inbox',      'view',   '', '', ''),
    ('p', 'reviewer',    'inbox',      'view',   '', '', ''),
    ('p', 'publisher',   'inbox',      'view',   '', '', ''),
    ('p', 'admin',       'settings',   'manage', '', '', '');
