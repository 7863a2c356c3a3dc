-- Finding F11: interviews get the stories' ownership rules. Who scheduled an
-- interview is kept (with its interviewer, the owners); the owners and
-- collaborators of the patient's stories work with it too; admins see all.
-- Opening one (its notes, recordings) and changing it are "_own" actions for
-- storytellers, role-wide for admins (see authz.AllowedOn).

-- +goose Up
ALTER TABLE interviews ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
UPDATE interviews SET created_by = interviewer_id;
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'interviews', 'open',     '', '', ''),
    ('p', 'admin',       'interviews', 'edit',     '', '', ''),
    ('p', 'storyteller', 'interviews', 'open_own', '', '', ''),
    ('p', 'storyteller', 'interviews', 'edit_own', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = 'interviews' AND v2 IN ('open', 'edit', 'open_own', 'edit_own');
ALTER TABLE interviews DROP COLUMN created_by;
