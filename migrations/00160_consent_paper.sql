-- Paper routes and the patient's copy (issue 19 items 4 and 5).
--
-- consent_records.method says how the authorization was signed: 'esign'
-- (the patient's link) or 'paper' (a signed paper form, scanned and
-- recorded by staff). A paper record's scan hash is part of its signed
-- scope. consent_paper_documents keeps every scanned paper that changed a
-- consent: a signed authorization, a written revocation, a withdrawal of
-- consent to electronic records. consent_patient_tasks are the things staff
-- must do by hand for a patient (hand over a printed copy, post a receipt or
-- a notice); consent_patient_notices records each notice sent to a patient
-- (before expiry, at expiry, superseded), once. patient_esign_withdrawals
-- lists patients who want no more electronic records: they get paper.

-- +goose Up
ALTER TABLE consent_records ADD COLUMN method TEXT NOT NULL DEFAULT 'esign';
ALTER TABLE consent_records ADD COLUMN paper_scan_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_records ADD COLUMN paper_signed_on TIMESTAMP NULL;

CREATE TABLE consent_paper_documents (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    story_id     TEXT NOT NULL DEFAULT '',
    record_id    TEXT NOT NULL DEFAULT '',
    storage_key  TEXT NOT NULL DEFAULT '',
    sha256       TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    size_bytes   BIGINT NOT NULL DEFAULT 0,
    dated_on     TIMESTAMP NOT NULL,
    recorded_by  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX consent_paper_documents_record_idx ON consent_paper_documents (record_id);
CREATE INDEX consent_paper_documents_patient_idx ON consent_paper_documents (patient_id);

CREATE TABLE consent_patient_tasks (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL,
    story_id   TEXT NOT NULL DEFAULT '',
    record_id  TEXT NOT NULL DEFAULT '',
    task_key   TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    done_at    TIMESTAMP NULL,
    done_by    TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX consent_patient_tasks_key_idx ON consent_patient_tasks (task_key);
CREATE INDEX consent_patient_tasks_open_idx ON consent_patient_tasks (done_at, story_id);

CREATE TABLE consent_patient_notices (
    id         TEXT PRIMARY KEY,
    record_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    notice_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX consent_patient_notices_key_idx ON consent_patient_notices (notice_key);

CREATE TABLE patient_esign_withdrawals (
    patient_id  TEXT PRIMARY KEY REFERENCES patients (id),
    document_id TEXT NOT NULL DEFAULT '',
    received_on TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- Recording paper changes a consent as signing or revoking does: the roles
-- that send requests record paper, storytellers for their own stories.
INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES
    ('p', 'admin',       'consent', 'paper',     '', '', ''),
    ('p', 'admin',       'consent', 'paper_own', '', '', ''),
    ('p', 'storyteller', 'consent', 'paper_own', '', '', '');

-- +goose Down
DELETE FROM casbin_rule WHERE v1 = 'consent' AND v2 IN ('paper', 'paper_own');
DROP TABLE patient_esign_withdrawals;
DROP TABLE consent_patient_notices;
DROP TABLE consent_patient_tasks;
DROP TABLE consent_paper_documents;
ALTER TABLE consent_records DROP COLUMN paper_signed_on;
ALTER TABLE consent_records DROP COLUMN paper_scan_sha256;
ALTER TABLE consent_records DROP COLUMN method;
