-- Patients: a case-folded name key for prefix search and keyset pagination
-- (ordered by name_key, id), and a small key/value settings table whose first
-- setting is whether a medical record number may be recorded at all
-- (minimum necessary: off until an admin turns it on).

-- +goose Up
ALTER TABLE patients ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE patients SET name_key = LOWER(full_name);
CREATE INDEX patients_name_key_idx ON patients (name_key, id);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);
