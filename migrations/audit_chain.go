package migrations

// auditChainLinked (migration 130) lets audited writes stop queueing on one
// chain lock (issue 21's scaling wall, issue 24's anchors). Until now every
// writer took a global lock, read the chain head and wrote its entry's hash
// inside its own transaction, so two replicas wrote no faster than one.
//
// From here, an entry is appended unlinked: id from the table's sequence
// (PostgreSQL BIGSERIAL, SQLite AUTOINCREMENT), seq, prev_hash and hash
// NULL. One chaining job (app/audit: Link) later gives entries their chain
// position (seq) and hashes, in the order it finds them committed. The hash
// formula is unchanged, and existing entries keep their seq and hashes
// (their id is their seq), so a chain written before the upgrade goes on
// verifying as the start of the new one.
//
// The append-only triggers stay, with one allowance: an unlinked entry may
// be linked once, by setting seq, prev_hash and hash and nothing else. A
// linked entry can be neither changed nor deleted, and an entry cannot be
// inserted already linked.
//
// audit_anchors remembers which chain heads were written outside the
// database (app/audit: anchors). It is only a record of what was sent:
// verification reads the anchors from where they were written.
func auditChainLinked(dialect string) []string {
	cols := `at, actor_id, actor, action, object_type, object_id, request_id, ip, details`
	copyRows := `INSERT INTO audit_log (id, seq, ` + cols + `, prev_hash, hash)
		SELECT seq, seq, ` + cols + `, prev_hash, hash FROM audit_log_v1 ORDER BY seq`
	indexes := []string{
		`CREATE UNIQUE INDEX audit_log_seq_idx ON audit_log (seq)`,
		`CREATE INDEX audit_log_unlinked_idx ON audit_log (id) WHERE seq IS NULL`,
		`CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id)`,
		`CREATE INDEX audit_log_actor_idx ON audit_log (actor_id)`,
		`CREATE INDEX audit_log_action_idx ON audit_log (action)`,
		`CREATE INDEX audit_log_at_idx ON audit_log (at)`,
		`CREATE TABLE audit_anchors (
			id       TEXT PRIMARY KEY,
			seq      BIGINT NOT NULL,
			hash     TEXT NOT NULL,
			at       TIMESTAMP NOT NULL,
			location TEXT NOT NULL,
			tsa_at   TIMESTAMP NULL,
			syslog   BOOLEAN NOT NULL DEFAULT FALSE
		)`,
		`CREATE INDEX audit_anchors_seq_idx ON audit_anchors (seq)`,
	}
	if dialect == "postgres" {
		out := []string{
			`DROP INDEX audit_log_object_idx`, `DROP INDEX audit_log_actor_idx`, `DROP INDEX audit_log_action_idx`, `DROP INDEX audit_log_at_idx`,
			`ALTER TABLE audit_log RENAME TO audit_log_v1`,
			`ALTER INDEX audit_log_pkey RENAME TO audit_log_v1_pkey`,
			`CREATE TABLE audit_log (
				id          BIGSERIAL PRIMARY KEY,
				seq         BIGINT NULL,
				at          TIMESTAMP NOT NULL,
				actor_id    TEXT NOT NULL,
				actor       TEXT NOT NULL,
				action      TEXT NOT NULL,
				object_type TEXT NOT NULL,
				object_id   TEXT NOT NULL,
				request_id  TEXT NOT NULL,
				ip          TEXT NOT NULL,
				details     TEXT NOT NULL,
				prev_hash   TEXT NULL,
				hash        TEXT NULL
			)`,
			copyRows,
			`DROP TABLE audit_log_v1`,
			`SELECT setval(pg_get_serial_sequence('audit_log', 'id'), COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false)`,
		}
		out = append(out, indexes...)
		return append(out,
			`CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF TG_OP = 'UPDATE' THEN
					IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
						AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
						AND (NEW.id, NEW.at, NEW.actor_id, NEW.actor, NEW.action, NEW.object_type, NEW.object_id, NEW.request_id, NEW.ip, NEW.details)
						  = (OLD.id, OLD.at, OLD.actor_id, OLD.actor, OLD.action, OLD.object_type, OLD.object_id, OLD.request_id, OLD.ip, OLD.details) THEN
						RETURN NEW;
					END IF;
				END IF;
				RAISE EXCEPTION 'audit_log is append-only';
			END $$`,
			`CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
			`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
			`CREATE FUNCTION audit_log_insert_unlinked() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
					RAISE EXCEPTION 'audit_log entries are appended unlinked; the chainer links them';
				END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER audit_log_insert_unlinked BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_insert_unlinked()`,
		)
	}
	out := []string{
		// SQLite moves triggers and indexes with a renamed table; drop them
		// so their names are free for the new one.
		`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`,
		`DROP INDEX audit_log_object_idx`, `DROP INDEX audit_log_actor_idx`, `DROP INDEX audit_log_action_idx`, `DROP INDEX audit_log_at_idx`,
		`ALTER TABLE audit_log RENAME TO audit_log_v1`,
		`CREATE TABLE audit_log (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			seq         BIGINT NULL,
			at          TIMESTAMP NOT NULL,
			actor_id    TEXT NOT NULL,
			actor       TEXT NOT NULL,
			action      TEXT NOT NULL,
			object_type TEXT NOT NULL,
			object_id   TEXT NOT NULL,
			request_id  TEXT NOT NULL,
			ip          TEXT NOT NULL,
			details     TEXT NOT NULL,
			prev_hash   TEXT NULL,
			hash        TEXT NULL
		)`,
		copyRows,
		`DROP TABLE audit_log_v1`,
	}
	out = append(out, indexes...)
	return append(out,
		`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
		WHEN NOT (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
			AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
			AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id AND NEW.actor IS OLD.actor
			AND NEW.action IS OLD.action AND NEW.object_type IS OLD.object_type AND NEW.object_id IS OLD.object_id
			AND NEW.request_id IS OLD.request_id AND NEW.ip IS OLD.ip AND NEW.details IS OLD.details)
		BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
		`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
		`CREATE TRIGGER audit_log_insert_unlinked BEFORE INSERT ON audit_log
		WHEN NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
		BEGIN SELECT RAISE(ABORT, 'audit_log entries are appended unlinked; the chainer links them'); END`,
	)
}
