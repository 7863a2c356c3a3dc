package migrations

// storiesSearch adds full-text search over stories. SQLite gets an FTS5 table
// that shares the stories table's rowid and is kept in sync by triggers;
// PostgreSQL gets a generated tsvector column with a GIN index. Neither can be
// written once for both dialects, hence a Go migration.
func storiesSearch(dialect string) []string {
	if dialect == "postgres" {
		return []string{
			`ALTER TABLE stories ADD COLUMN search tsvector GENERATED ALWAYS AS (
				setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
				setweight(to_tsvector('english', coalesce(summary, '')), 'B') ||
				to_tsvector('english', coalesce(body, ''))) STORED`,
			`CREATE INDEX stories_search_idx ON stories USING GIN (search)`,
		}
	}
	return []string{
		`CREATE VIRTUAL TABLE stories_fts USING fts5(title, summary, body, content='stories', content_rowid='rowid', tokenize='porter unicode61')`,
		`CREATE TRIGGER stories_fts_insert AFTER INSERT ON stories BEGIN
			INSERT INTO stories_fts (rowid, title, summary, body) VALUES (new.rowid, new.title, new.summary, new.body);
		END`,
		`CREATE TRIGGER stories_fts_delete AFTER DELETE ON stories BEGIN
			INSERT INTO stories_fts (stories_fts, rowid, title, summary, body) VALUES ('delete', old.rowid, old.title, old.summary, old.body);
		END`,
		`CREATE TRIGGER stories_fts_update AFTER UPDATE OF title, summary, body ON stories BEGIN
			INSERT INTO stories_fts (stories_fts, rowid, title, summary, body) VALUES ('delete', old.rowid, old.title, old.summary, old.body);
			INSERT INTO stories_fts (rowid, title, summary, body) VALUES (new.rowid, new.title, new.summary, new.body);
		END`,
	}
}
