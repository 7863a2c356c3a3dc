package migrations

// publicTables are the tables whose rows decide what the public website
// shows: the story revision and its tags and channels, legal's approval,
// the publication, photos and their crops, the patient's name, and the
// consent requests, records and form templates the gate checks.
var publicTables = []string{"stories", "story_tags", "story_channels", "story_approvals", "story_approval_channels",
	"website_publications", "media_assets", "media_renditions", "patients", "consent_requests", "consent_records", "consent_templates"}

// publicCacheChanges lets the public page cache (app/publiccache) learn,
// in the same transaction as the change, that what the website may show
// could have changed. SQLite has one process and one writer: every write
// to a public table bumps public_generation, which the process reads. On
// PostgreSQL several replicas share the database: a statement trigger
// sends NOTIFY storykeep_public, which PostgreSQL delivers to every
// listening replica when (and only if) the transaction commits. A counter
// row would do the same, but every story, media and consent write would
// then lock one row until commit, serialising them and risking deadlocks
// between transactions that touch these tables in different orders.
func publicCacheChanges(dialect string) []string {
	if dialect == "postgres" {
		out := []string{`CREATE FUNCTION storykeep_public_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('storykeep_public', TG_TABLE_NAME); RETURN NULL; END $$`}
		for _, t := range publicTables {
			out = append(out, `CREATE TRIGGER `+t+`_public_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON `+t+` FOR EACH STATEMENT EXECUTE FUNCTION storykeep_public_changed()`)
		}
		return out
	}
	out := []string{`CREATE TABLE public_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)`,
		`INSERT INTO public_generation (id, generation) VALUES (1, 1)`}
	for _, t := range publicTables {
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			out = append(out, `CREATE TRIGGER `+t+`_public_`+op+` AFTER `+op+` ON `+t+` BEGIN UPDATE public_generation SET generation = generation + 1 WHERE id = 1; END`)
		}
	}
	return out
}
