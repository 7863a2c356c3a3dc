-- Issue 24: the retention and legal hold page (/admin/retention). Setting
-- or lifting a hold and purging evidence are for admins only.

-- +goose Up
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin', 'retention', 'manage', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE v1 = 'retention' AND v2 = 'manage';
