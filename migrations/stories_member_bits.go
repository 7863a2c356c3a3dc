package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
)

// storiesMemberBits adds stories.tag_bits and stories.channel_bits
// (memberBits of the story's tags and channels), fills them for the
// stories already there, and adds them to the list's covering indexes. A
// list filtered on a common tag or channel walks those indexes newest first
// and used to look up every story it passed in story_tags or
// story_channels; with the bits in the index it skips most non-matching
// stories without a lookup. The bits are computed in Go (FNV-1a), so this is
// a Go migration; its statements are the same on both databases.
func storiesMemberBits(ctx context.Context, tx *sql.Tx, dialect string) error {
	if err := execAll(ctx, tx,
		`ALTER TABLE stories ADD COLUMN tag_bits BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE stories ADD COLUMN channel_bits BIGINT NOT NULL DEFAULT 0`,
	); err != nil {
		return err
	}
	type bits struct{ tags, channels []string }
	all := map[string]*bits{}
	for _, src := range []struct {
		query string
		add   func(*bits, string)
	}{
		{`SELECT story_id, tag FROM story_tags`, func(b *bits, v string) { b.tags = append(b.tags, v) }},
		{`SELECT story_id, channel FROM story_channels`, func(b *bits, v string) { b.channels = append(b.channels, v) }},
	} {
		rows, err := tx.QueryContext(ctx, src.query)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			if all[id] == nil {
				all[id] = &bits{}
			}
			src.add(all[id], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	// Both databases name a VALUES list's columns column1, column2, ...
	const batch = 300
	var (
		marks []string
		args  []any
	)
	flush := func() error {
		if len(marks) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE stories SET tag_bits = v.column2, channel_bits = v.column3 FROM (VALUES `+
			strings.Join(marks, ", ")+`) AS v WHERE stories.id = v.column1`, args...)
		marks, args = marks[:0], args[:0]
		return err
	}
	for id, b := range all {
		mark := "(?, CAST(? AS BIGINT), CAST(? AS BIGINT))"
		if dialect == "postgres" {
			mark = fmt.Sprintf("($%d, CAST($%d AS BIGINT), CAST($%d AS BIGINT))", 3*len(marks)+1, 3*len(marks)+2, 3*len(marks)+3)
		}
		marks = append(marks, mark)
		args = append(args, id, memberBits(b.tags...), memberBits(b.channels...))
		if len(marks) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return execAll(ctx, tx,
		`DROP INDEX stories_list_idx`,
		`CREATE INDEX stories_list_idx ON stories (updated_at, id, stage, owner_id, revision, title, slug, tag_bits, channel_bits)`,
		`DROP INDEX stories_stage_list_idx`,
		`CREATE INDEX stories_stage_list_idx ON stories (stage, updated_at, id, owner_id, revision, title, slug, tag_bits, channel_bits)`,
	)
}

// memberBits is how migration 63 summarised tags and channels: each value
// set the bit its FNV-1a hash chose, so two values could share one.
// Migration 66 replaced these bits with exact ones; this stays as it was.
func memberBits(values ...string) int64 {
	var bits uint64
	for _, v := range values {
		h := fnv.New64a()
		h.Write([]byte(v))
		bits |= 1 << (h.Sum64() % 64)
	}
	return int64(bits)
}
