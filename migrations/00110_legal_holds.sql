-- Legal holds (issue 24): while a hold on a patient or a story is active
-- (lifted_at IS NULL), nothing of theirs may be deleted or purged, whatever
-- the retention period says. Holds are set and lifted, never deleted, so
-- the table is its own history; the audit log records both acts too.

-- +goose Up
CREATE TABLE legal_holds (
    id           TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    set_by       TEXT NOT NULL,
    set_at       TIMESTAMP NOT NULL,
    lifted_by    TEXT NOT NULL DEFAULT '',
    lifted_at    TIMESTAMP NULL
);
CREATE INDEX legal_holds_subject_idx ON legal_holds (subject_type, subject_id, lifted_at);

-- +goose Down
DROP TABLE legal_holds;
