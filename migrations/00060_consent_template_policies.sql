-- Admins manage consent form templates (versions, drafts, activation).

-- +goose Up
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', 'admin', 'consent_templates', 'manage', '', '', '');
