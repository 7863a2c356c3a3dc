-- Patients (the subject of a story) and interviews. Contact details, date of
-- birth and any record number are sealed with the data key (AES-GCM, value
-- prefixed with its key id) before they reach the database.

-- +goose Up
CREATE TABLE patients (
    id                  TEXT PRIMARY KEY,
    full_name           TEXT NOT NULL,
    preferred_name      TEXT NOT NULL DEFAULT '',
    dob_sealed          TEXT NOT NULL DEFAULT '',
    email_sealed        TEXT NOT NULL DEFAULT '',
    phone_sealed        TEXT NOT NULL DEFAULT '',
    mrn_sealed          TEXT NOT NULL DEFAULT '',
    preferred_language  TEXT NOT NULL DEFAULT 'en',
    rep_name            TEXT NOT NULL DEFAULT '',
    rep_relationship    TEXT NOT NULL DEFAULT '',
    rep_authority       TEXT NOT NULL DEFAULT '',
    created_by          TEXT NOT NULL REFERENCES users (id),
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX patients_name_idx ON patients (full_name);

CREATE TABLE interviews (
    id             TEXT PRIMARY KEY,
    patient_id     TEXT NOT NULL REFERENCES patients (id),
    interviewer_id TEXT NOT NULL REFERENCES users (id),
    scheduled_at   TIMESTAMP NOT NULL,
    location       TEXT NOT NULL DEFAULT '',
    remote         BOOLEAN NOT NULL DEFAULT FALSE,
    notes          TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'scheduled',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX interviews_patient_idx ON interviews (patient_id);
CREATE INDEX interviews_interviewer_idx ON interviews (interviewer_id, scheduled_at);
