-- The job claim walks an index instead of sorting the backlog (issue 21).
--
-- A claim looked for the oldest due job of its lane's kinds, or a job whose
-- lease ran out, in one query with an OR: the database read every due job
-- and sorted them to take one. With 3,000 deliveries queued that was about
-- 1 ms of database time per claim, a third of a delivery's database work,
-- and it grew with the backlog. The claim now asks, for each kind of its
-- lane, for the oldest due job of that kind (jobs_claim_idx, read in order,
-- one row), and for the job whose lease ran out longest ago
-- (jobs_lease_idx); see jobs.Queue.claim. jobs_due_idx (status, run_at)
-- served only the old claim; every job update had to maintain it, so it
-- goes (jobs_claim_idx starts with status for the queries by status).

-- +goose Up
CREATE INDEX jobs_claim_idx ON jobs (status, kind, run_at, id);
CREATE INDEX jobs_lease_idx ON jobs (status, locked_until);
DROP INDEX jobs_due_idx;

-- +goose Down
CREATE INDEX jobs_due_idx ON jobs (status, run_at);
DROP INDEX jobs_lease_idx;
DROP INDEX jobs_claim_idx;
