-- Finding F10: changing a patient's date of birth, email or phone redirects
-- their consent links and identity check, so only staff entitled to the
-- patient may do it: admins outright, storytellers on patients of stories
-- they own or collaborate on (the "_own" form, see authz.AllowedOn).

-- +goose Up
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'patients', 'contact',     '', '', ''),
    ('p', 'admin',       'patients', 'contact_own', '', '', ''),
    ('p', 'storyteller', 'patients', 'contact_own', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = 'patients' AND v2 IN ('contact', 'contact_own');
