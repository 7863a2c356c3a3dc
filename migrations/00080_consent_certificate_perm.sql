-- +goose Up
-- Certificates name the patient and carry the signature image: only the
-- roles that handle consents download them, not publishers (finding F5).
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'consent', 'certificate', '', '', ''),
    ('p', 'storyteller', 'consent', 'certificate', '', '', ''),
    ('p', 'reviewer',    'consent', 'certificate', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE v1 = 'consent' AND v2 = 'certificate';
