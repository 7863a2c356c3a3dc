-- +goose Up
-- Admins edit the organisation's contact details (legal name, postal
-- address, phone, privacy contact) and time zone, which consent forms, the
-- e-sign disclosure and certificates print (issue 19 item 3). The values
-- live in the settings table.
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin', 'organisation', 'manage', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE v1 = 'organisation' AND v2 = 'manage';
