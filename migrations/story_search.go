package migrations

// storySearchTable moves PostgreSQL's full-text search out of the stories
// table into story_search: a narrow row per story with what a search
// filters on (its words' tsvector, its stage, its tag and channel bits) and
// what a list shows (title, owner, revision, time of the last change), kept
// by a trigger on stories, with the GIN index. A search that matches many
// stories walks the key newest first until a page of them match (see
// app/stories: pgMatch); on stories, each step read a 1.7 KB row holding
// the story's whole text, and reached the bits past a dozen columns. On
// story_search the rows are half as wide, the bits come first, and the
// page is read from the same rows (pgbench, 100,000 stories: a search 70%
// more queries a second, with a tag filter 20%, against story_search
// without the list's columns, whose page was then read from stories).
// SQLite's full-text index is a table of its own already.
func storySearchTable(dialect string) []string {
	if dialect != "postgres" {
		return nil
	}
	return []string{
		`CREATE TABLE story_search (
			story_id TEXT PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,
			tag_bits BIGINT NOT NULL,
			channel_bits BIGINT NOT NULL,
			revision INTEGER NOT NULL,
			updated_at TIMESTAMP NOT NULL,
			stage TEXT NOT NULL,
			owner_id TEXT NOT NULL,
			title TEXT NOT NULL,
			search tsvector NOT NULL)`,
		// In key order, which the walk reads in.
		`INSERT INTO story_search (story_id, tag_bits, channel_bits, revision, updated_at, stage, owner_id, title, search)
			SELECT id, tag_bits, channel_bits, revision, updated_at, stage, owner_id, title, search FROM stories ORDER BY id`,
		`CREATE INDEX story_search_idx ON story_search USING GIN (search)`,
		`ALTER TABLE stories DROP COLUMN search`,
		// The words are weighed as before: title, then summary, then body.
		// A save that changes none of them (a transition, new tags) leaves
		// the tsvector alone.
		`CREATE FUNCTION story_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP = 'UPDATE' AND NEW.title = OLD.title AND NEW.summary = OLD.summary AND NEW.body = OLD.body THEN
				IF (NEW.tag_bits, NEW.channel_bits, NEW.revision, NEW.updated_at, NEW.stage, NEW.owner_id)
					IS DISTINCT FROM (OLD.tag_bits, OLD.channel_bits, OLD.revision, OLD.updated_at, OLD.stage, OLD.owner_id) THEN
					UPDATE story_search SET tag_bits = NEW.tag_bits, channel_bits = NEW.channel_bits, revision = NEW.revision,
						updated_at = NEW.updated_at, stage = NEW.stage, owner_id = NEW.owner_id
					WHERE story_id = NEW.id;
				END IF;
				RETURN NULL;
			END IF;
			INSERT INTO story_search (story_id, tag_bits, channel_bits, revision, updated_at, stage, owner_id, title, search)
			VALUES (NEW.id, NEW.tag_bits, NEW.channel_bits, NEW.revision, NEW.updated_at, NEW.stage, NEW.owner_id, NEW.title,
				setweight(to_tsvector('english', NEW.title), 'A') ||
				setweight(to_tsvector('english', NEW.summary), 'B') ||
				to_tsvector('english', NEW.body))
			ON CONFLICT (story_id) DO UPDATE SET tag_bits = EXCLUDED.tag_bits, channel_bits = EXCLUDED.channel_bits,
				revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at, stage = EXCLUDED.stage,
				owner_id = EXCLUDED.owner_id, title = EXCLUDED.title, search = EXCLUDED.search;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER story_search_sync AFTER INSERT OR UPDATE ON stories FOR EACH ROW EXECUTE FUNCTION story_search_sync()`,
	}
}

// storySearchStage (migration 181) lets a search over several stages (a
// reviewer's or a publisher's: minimum necessary, issue 20) walk each
// stage's stories newest first, testing the words, and stop after a page
// (see stories.perStage). Without it a search whose stages are rare read
// every story or every match (1.4 s p99 over 100,000 drafts). SQLite has
// no story_search: nothing to do.
func storySearchStage(dialect string) []string {
	if dialect != "postgres" {
		return nil
	}
	return []string{"CREATE INDEX story_search_stage_idx ON story_search (stage, story_id)"}
}
