package stories

import (
	"context"
	"encoding/base64"
	"fmt"
	mathbits "math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// Filter narrows a story list. Empty fields do not filter.
type Filter struct {
	Stages    []string
	OwnerID   string
	Tag       string
	Channel   string
	PatientID string
	Query     string // full-text search over title, summary and story
	// AuthorID keeps stories the user owns or collaborates on; NotAuthorID
	// drops them (a reviewer's queue excludes their own stories).
	AuthorID, NotAuthorID string
	// After is the cursor of the last row of the previous page.
	After string
	Limit int
}

// Row is one story in a list.
type Row struct {
	ID, Title, Stage   string
	OwnerID, OwnerName string
	Revision           int
	UpdatedAt          time.Time
}

// StageLabel names the row's stage for screens.
func (r Row) StageLabel() string { return workflow.Stage(r.Stage).Label() }

// ListPage is one page of a list; Next is the cursor of the following page
// ("" on the last page).
type ListPage struct {
	Rows []Row
	Next string
}

// List returns stories matching f, most recently updated first, one page at
// a time. Pages are keyset-paginated on (updated_at, id), so a deep page
// costs the same as the first and rows do not shift when stories change.
func (s *Service) List(ctx context.Context, f Filter) (*ListPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q, search, sqlite, err := s.listQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	sqliteSearch := search && sqlite
	// Scanned by hand: GORM's reflective Scan was a sixth of a list's time.
	cur, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	rows := make([]Row, 0, f.Limit+1)
	var seqs []int64
	if sqliteSearch {
		seqs = make([]int64, 0, f.Limit+1)
	}
	// One Row to scan into, copied out per row: a fresh one per row (and
	// its destination list) was two allocations a row.
	var (
		r   Row
		seq int64
		at  string
	)
	dest := []any{&r.ID, &r.Title, &r.Stage, &r.OwnerID, &r.Revision, &r.UpdatedAt}
	if sqlite {
		dest[5] = &at
	}
	if sqliteSearch {
		dest = append(dest, &seq)
	}
	for cur.Next() {
		if err := cur.Scan(dest...); err != nil {
			return nil, err
		}
		if sqlite {
			if r.UpdatedAt, err = parseStoredTime(at); err != nil {
				return nil, err
			}
		}
		rows = append(rows, r)
		if sqliteSearch {
			seqs = append(seqs, seq)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	if err := s.nameOwners(ctx, rows); err != nil {
		return nil, err
	}
	page := &ListPage{Rows: rows}
	if len(rows) > f.Limit {
		page.Rows = rows[:f.Limit]
		last := page.Rows[f.Limit-1]
		switch {
		case sqliteSearch:
			page.Next = encodeSearchCursor(strconv.FormatInt(seqs[f.Limit-1], 10))
		case search:
			page.Next = encodeSearchCursor(last.ID)
		default:
			page.Next = encodeCursor(last.UpdatedAt, last.ID)
		}
	}
	return page, nil
}

// listQuery builds List's query for f: its columns, conditions, order and
// limit (one row more than a page, to tell whether another follows).
// search says f.Query has terms, sqlite that the database is SQLite.
func (s *Service) listQuery(ctx context.Context, f Filter) (q *gorm.DB, search, sqlite bool, err error) {
	search = len(searchTerms(strings.Fields(f.Query))) > 0
	sqlite = s.db.Dialector.Name() != "postgres"
	sqliteSearch := search && sqlite
	// The columns come from the covering index (or, for a PostgreSQL
	// search, from story_search); the owner's name comes from
	// nameOwners rather than a join. On SQLite updated_at is read as plain
	// text and parsed here: the driver would otherwise look up every
	// column's declared type on every row and parse the time with
	// time.Parse, a quarter of the scan's cost.
	updated := "stories.updated_at"
	if sqlite {
		updated = "stories.updated_at || ''"
	}
	table := "stories"
	cols := "stories.id, stories.title, stories.stage, stories.owner_id, stories.revision, " + updated
	order := "stories.updated_at DESC, stories.id DESC"
	switch {
	case sqliteSearch:
		cols, order = cols+", stories_fts.rowid", "stories_fts.rowid DESC"
	case search && !storiesSide(f):
		table = "story_search ss"
		cols, order = "ss.story_id, ss.title, ss.stage, ss.owner_id, ss.revision, ss.updated_at", "ss.story_id DESC"
	case search:
		order = "stories.id DESC"
	}
	// A patient's stories are few: their index and a sort serve any
	// stages (the per-stage walk made a reviewer's patient list 2.5 times
	// slower).
	if len(f.Stages) > 1 && (!search || !sqlite) && f.PatientID == "" {
		q, err = s.perStage(ctx, f, table, cols, order, search)
		return q, search, sqlite, err
	}
	q, err = s.applyFilter(s.read.WithContext(ctx).Table(table).Select(cols), f, search)
	if err != nil {
		return nil, false, false, err
	}
	return q.Order(order + limitClause(f.Limit+1)), search, sqlite, nil
}

// perStage lists several stages at once (a reviewer's or a publisher's
// list: minimum necessary, issue 20) as one ordered walk of the stage index
// per stage, each stopping after a page, merged. A single walk of the
// recency index testing each story's stage read every story when the
// stages were rare (700 ms p99 on PostgreSQL over 100,000 drafts), and
// neither database can walk one index in order across several stages. A
// PostgreSQL search does the same on story_search's stage index (migration
// 181), newest story first.
func (s *Service) perStage(ctx context.Context, f Filter, table, cols, order string, search bool) (*gorm.DB, error) {
	// The filter is built once, for a stand-in stage, and its SQL copied
	// for each stage: building it through GORM once per stage was an
	// eighth of a reviewer's list's time.
	one := f
	one.Stages = []string{stageStandIn}
	q, err := s.applyFilter(s.read.WithContext(ctx).Table(table).Select(cols), one, search)
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	stmt := q.Order(order + limitClause(f.Limit+1)).Session(&gorm.Session{DryRun: true}).Find(&rows).Statement
	branch, vars := questionMarks(stmt.SQL.String(), stmt.Vars)
	standIn := stageList([]string{stageStandIn})
	if !strings.Contains(branch, standIn) {
		return nil, fmt.Errorf("stories: per-stage list: stage not found in %q", branch)
	}
	var b strings.Builder
	args := make([]any, 0, len(vars)*len(f.Stages))
	b.WriteString("SELECT * FROM (")
	for i, st := range f.Stages {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT * FROM (%s) s%d", strings.ReplaceAll(branch, standIn, stageList([]string{st})), i)
		args = append(args, vars...)
	}
	// By position: a list's order is updated_at (the sixth column; on
	// SQLite read as text, whose order is the stored order) then id (the
	// first); a search's is the story id, newest first.
	merged := ") u ORDER BY 6 DESC, 1 DESC"
	if search {
		merged = ") u ORDER BY 1 DESC"
	}
	b.WriteString(merged + limitClause(f.Limit+1))
	return s.read.WithContext(ctx).Raw(b.String(), args...), nil
}

// stageStandIn stands for each stage in perStage's one built branch (a
// name no workflow stage has, in the stage-name alphabet).
const stageStandIn = "zz_stage_stand_in"

var dollarParam = regexp.MustCompile(`\$[0-9]+`)

// questionMarks turns SQL with PostgreSQL's numbered parameters ($1, $2)
// into SQL with ?, and vars into the order the ? take, so it can be copied
// and handed to Raw again. SQLite's SQL already uses ?.
func questionMarks(sql string, vars []any) (string, []any) {
	if !dollarParam.MatchString(sql) {
		return sql, vars
	}
	var out []any
	sql = dollarParam.ReplaceAllStringFunc(sql, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		out = append(out, vars[n-1])
		return "?"
	})
	return sql, out
}

// applyFilter adds f's conditions; search says whether f.Query has terms,
// which orders the list newest story first (see List).
//
// A PostgreSQL search reads story_search (see migrations.storySearchTable),
// which holds the words, the stage, the tag and channel bits and the list's
// columns: when the filter asks nothing else, the list is read from it
// alone, walking its key or its GIN index; a patient filter (see
// storiesSide) joins stories to it.
func (s *Service) applyFilter(q *gorm.DB, f Filter, search bool) (*gorm.DB, error) {
	pg := s.db.Dialector.Name() == "postgres"
	// A search takes the tag and channel filters along with its words (see
	// memberFilter).
	var with *alongside
	if search {
		with = &alongside{sqlite: !pg}
	}
	if len(f.Stages) > 0 {
		// The stages are written into the SQL, as the limit is (see
		// limitClause): a stage as a parameter got PostgreSQL's generic
		// plan, costed for a stage as common as the average one, which
		// walks the recency index testing each story's stage; for a rare
		// stage that read every story (130 ms for a reviewer's empty list
		// over 100,000 drafts).
		in := stageList(f.Stages)
		if search && pg {
			with.where = append(with.where, cond{"ss.stage IN " + in, nil})
		} else {
			q = q.Where("stories.stage IN " + in)
		}
	}
	// Who a story belongs to is in story_search too: a PostgreSQL search
	// asks it there, without joining stories (for a storyteller's search,
	// that join walked both tables' keys, doubling the search's time).
	alias, idCol := "stories", "stories.id"
	if search && pg && !storiesSide(f) {
		alias, idCol = "ss", "ss.story_id"
	}
	if f.OwnerID != "" {
		q = q.Where(alias+".owner_id = ?", f.OwnerID)
	}
	if f.PatientID != "" {
		q = q.Where("stories.patient_id = ?", f.PatientID)
	}
	if f.Tag != "" {
		var err error
		if q, err = s.memberFilter(q, "story_tags", "tag", "tag_bits", strings.ToLower(strings.TrimSpace(f.Tag)), with); err != nil {
			return nil, err
		}
	}
	if f.Channel != "" {
		var err error
		if q, err = s.memberFilter(q, "story_channels", "channel", "channel_bits", f.Channel, with); err != nil {
			return nil, err
		}
	}
	authored := "(" + alias + ".owner_id = ? OR EXISTS (SELECT 1 FROM story_collaborators sc WHERE sc.story_id = " + idCol + " AND sc.user_id = ?))"
	fewAuthor := false
	if f.AuthorID != "" {
		// A storyteller's own list (minimum necessary, issue 20): walking the
		// recency index and testing each story suits an author of many; for
		// an author of few it read all 20,000 benchmark stories to find none
		// (62 ms), so their stories are collected from the owner and
		// collaborator indexes and sorted instead.
		few, err := s.fewAuthored(q.Statement.Context, f.AuthorID)
		if err != nil {
			return nil, err
		}
		if fewAuthor = few; few {
			q = q.Where(idCol+" IN (SELECT o.id FROM stories o WHERE o.owner_id = ? UNION ALL SELECT sc.story_id FROM story_collaborators sc WHERE sc.user_id = ?)", f.AuthorID, f.AuthorID)
		} else {
			q = q.Where(authored, f.AuthorID, f.AuthorID)
		}
	}
	if f.NotAuthorID != "" {
		q = q.Where("NOT "+authored, f.NotAuthorID, f.NotAuthorID)
	}
	if terms := strings.Fields(f.Query); len(terms) > 0 {
		prefix := false
		if search {
			var err error
			if prefix, err = s.lastIsPrefix(q.Statement.Context, terms); err != nil {
				return nil, err
			}
		}
		switch {
		case !search:
			q = q.Where("1 = 0") // only punctuation: nothing can match
		case pg:
			if err := s.pgMatch(q.Statement.Context, tsQuery(terms, prefix), with); err != nil {
				return nil, err
			}
		default:
			// FTS5 hands its matches over in rowid order, and SQLite gives a
			// story the next rowid when it is created: ordering search
			// results newest first lets the search stop after one page
			// instead of collecting and sorting every match.
			//
			// A patient has a handful of stories: starting from them (CROSS
			// JOIN fixes SQLite's join order) and asking the full-text index
			// about each is far cheaper than walking every match of a common
			// term to find the few that are about the patient (1.1 s p99 at
			// 100,000 stories, against milliseconds).
			join := "JOIN"
			if f.PatientID != "" || fewAuthor { // likewise an author's few stories
				join = "CROSS JOIN"
			} else if len(f.Stages) > 0 {
				// Likewise stages holding few stories (a reviewer's or a
				// publisher's search when little is in review or later):
				// walking a common term's matches to find none read them
				// all (750 ms p99 over 100,000 drafts).
				few, err := s.fewInStages(q.Statement.Context, f.Stages)
				if err != nil {
					return nil, err
				}
				if few {
					join = "CROSS JOIN"
				}
			}
			q = q.Joins(join+" stories_fts ON stories_fts.rowid = stories.rowid").Where("stories_fts MATCH ?", ftsQuery(terms, prefix, with.tokens...))
		}
	}
	if f.After != "" {
		if search {
			v, err := decodeSearchCursor(f.After)
			if err != nil {
				return nil, err
			}
			if pg {
				with.where = append(with.where, cond{"ss.story_id < ?", []any{v}})
			} else {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, errBadCursor
				}
				q = q.Where("stories_fts.rowid < ?", n)
			}
		} else {
			at, id, err := decodeCursor(f.After)
			if err != nil {
				return nil, err
			}
			q = q.Where("(stories.updated_at < ? OR (stories.updated_at = ? AND stories.id < ?))", at, at, id)
		}
	}
	if !search || !pg {
		return q, nil
	}
	if storiesSide(f) {
		q = q.Joins("JOIN story_search ss ON ss.story_id = stories.id")
	}
	for _, c := range with.where {
		q = q.Where(c.sql, c.args...)
	}
	return q, nil
}

// fewInStages says whether fewer than broadSearch stories are in stages,
// counted through the stage index.
func (s *Service) fewInStages(ctx context.Context, stages []string) (bool, error) {
	in := stageList(stages)
	broad, err := s.plans.broad(ctx, "stages:"+in, func(ctx context.Context) (int64, error) {
		var n int64
		err := s.read.WithContext(ctx).Raw("SELECT count(*) FROM (SELECT 1 FROM stories WHERE stage IN "+in+" LIMIT ?) x", broadSearch).Scan(&n).Error
		return n, err
	})
	return !broad, err
}

// stageList is stages as an SQL list of literals. A stage is a workflow
// stage's name (lower-case letters and underscores); anything else becomes
// ”, which no story has.
func stageList(stages []string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, st := range stages {
		if i > 0 {
			b.WriteByte(',')
		}
		ok := st != ""
		for _, r := range st {
			if (r < 'a' || r > 'z') && r != '_' {
				ok = false
			}
		}
		if !ok {
			st = ""
		}
		b.WriteString("'" + st + "'")
	}
	b.WriteByte(')')
	return b.String()
}

// fewAuthored says whether userID owns or collaborates on fewer than
// broadSearch stories, counted through the owner and collaborator indexes.
func (s *Service) fewAuthored(ctx context.Context, userID string) (bool, error) {
	// Remembered like the other plan decisions (see plans): counting on
	// every request was most of an author-of-many's list (two thousand
	// index entries each time).
	broad, err := s.plans.broad(ctx, "author:"+userID, func(ctx context.Context) (int64, error) {
		var n int64
		err := s.read.WithContext(ctx).Raw("SELECT (SELECT count(*) FROM (SELECT 1 FROM stories WHERE owner_id = ? LIMIT ?) o) + "+
			"(SELECT count(*) FROM (SELECT 1 FROM story_collaborators WHERE user_id = ? LIMIT ?) c)", userID, broadSearch, userID, broadSearch).Scan(&n).Error
		return n, err
	})
	return !broad, err
}

// storiesSide says whether f filters on what only the stories table holds
// (see applyFilter): the patient. Owner and collaborators are asked of
// story_search (owner_id, kept by its trigger) and story_collaborators.
func storiesSide(f Filter) bool {
	return f.PatientID != ""
}

// limitClause is " LIMIT n", written into the statement rather than passed
// as a parameter (as GORM's Limit does). PostgreSQL plans a statement with
// the parameters it is given for its first five runs, then keeps a generic
// plan if that costs no more than those did; not knowing the limit, the
// generic plan costs as if a tenth of the rows were wanted, so every run of
// a list was planned anew: 0.14 ms of bind for 0.62 of execution for a
// search + tag under load, and more than the execution itself (0.033 ms
// against 0.022) for the plain list.
func limitClause(n int) string { return " LIMIT " + strconv.Itoa(n) }

// memberFilter keeps stories having value in table.column (a tag, a
// channel). When many stories match, the database should walk the recency
// index newest first and stop after one page; when few match, starting from
// the matches is faster. On the walk, the story's bits (see memberBit), held
// in the covering index, answer for a channel or a tag with a bit of its
// own; a tag without one is checked in story_tags, as a correlated subquery
// with LIMIT, where PostgreSQL would otherwise turn EXISTS into a hash join
// over every match and sort them.
//
// With a search (with not nil), a value with a bit of its own goes along
// with the words instead (see alongside); on PostgreSQL every condition is
// on story_search (see applyFilter).
func (s *Service) memberFilter(q *gorm.DB, table, column, bits, value string, with *alongside) (*gorm.DB, error) {
	ctx := q.Statement.Context
	alias, id := "stories", "stories.id"
	where := func(sql string, args ...any) (*gorm.DB, error) { return q.Where(sql, args...), nil }
	if with != nil && !with.sqlite {
		alias, id = "ss", "ss.story_id"
		where = func(sql string, args ...any) (*gorm.DB, error) {
			with.where = append(with.where, cond{sql, args})
			return q, nil
		}
	}
	bit, exact, found, err := s.memberBit(ctx, table, value)
	if err != nil {
		return nil, err
	}
	if !found {
		return q.Where("1 = 0"), nil
	}
	if with != nil && with.sqlite && exact {
		kind := "t"
		if table == "story_channels" {
			kind = "c"
		}
		with.tokens = append(with.tokens, kind+strconv.Itoa(mathbits.TrailingZeros64(uint64(bit))))
		return q, nil
	}
	broad, err := s.plans.remember(ctx, table+":"+value, func(ctx context.Context) (bool, error) {
		var n int64
		if err := s.read.WithContext(ctx).Raw("SELECT count(*) FROM (SELECT 1 FROM "+table+" WHERE "+column+" = ? LIMIT ?) m", value, broadSearch).Scan(&n).Error; err != nil {
			return false, err
		}
		if n >= broadSearch || !exact || n == 0 {
			return n >= broadSearch, nil
		}
		// With exact bits the walk reads only the index, so it wins as soon
		// as the value is not rare: with 2,000 stories, starting from a
		// channel's 500 matches (reading each story and sorting them) cost
		// 2 ms a list, walking the index until a page is full 0.2.
		total, err := s.total.get(ctx, func(ctx context.Context) (n int64, err error) {
			err = s.read.WithContext(ctx).Raw("SELECT count(*) FROM stories").Scan(&n).Error
			return n, err
		})
		return err == nil && n*broadShare >= total, err
	})
	switch {
	case err != nil:
		return nil, err
	case !broad:
		return where(id+" IN (SELECT story_id FROM "+table+" WHERE "+column+" = ?)", value)
	case exact && with != nil:
		with.tests = append(with.tests, "("+alias+"."+bits+" & ?) <> 0")
		with.args = append(with.args, bit)
		return q, nil
	case exact:
		return q.Where("(stories."+bits+" & ?) <> 0", bit), nil
	}
	return where("("+alias+"."+bits+" & ?) <> 0 AND (SELECT 1 FROM "+table+" m WHERE m.story_id = "+id+" AND m."+column+" = ? LIMIT 1) = 1",
		bit, value)
}

// pgMatch keeps stories matching the tsquery. Results come newest story
// first (id DESC), and which plan is fast depends on how many stories
// match: for many, walking the primary key backwards and testing each story
// stops after one page; for few, collecting the matches from the GIN index
// and sorting them is faster. PostgreSQL cannot tell from a prepared
// statement's parameter, and after a few executions it settles on one
// generic plan for every term (it chose the GIN route for a common prefix:
// 30 ms instead of 2). So the count is decided here, remembered like the
// tag filter's, and a broad match is written as "(…) IS TRUE", which the
// GIN index cannot serve, leaving the key walk as the plan.
//
// with's bit tests (a tag or channel filter) are made before the words are
// matched: PostgreSQL orders a filter's conditions by its estimate of their
// cost, which rates a word match cheaper than a bit test, and so matched
// the words of every story the walk passed, not only of those having the
// tag. A CASE fixes the order (search + tag: 12 to 24% more queries a
// second, pgbench).
//
// The conditions go to with.where, on story_search (see applyFilter).
func (s *Service) pgMatch(ctx context.Context, tsq string, with *alongside) error {
	broad, err := s.plans.broad(ctx, "match:"+tsq, func(ctx context.Context) (n int64, err error) {
		err = s.viaIndex(ctx, func(tx *gorm.DB) error { return tx.Raw(pgMatchCount, tsq, broadSearch).Scan(&n).Error })
		return n, err
	})
	if err != nil {
		return err
	}
	// The tsquery is built in a subquery, once per search: written inline,
	// PostgreSQL planned the statement anew on every call to fold it into a
	// constant (a fifth of a search's database time), and a generic plan
	// would build it again for every story.
	switch {
	case broad && len(with.tests) > 0:
		with.where = append(with.where, cond{"CASE WHEN " + strings.Join(with.tests, " AND ") + " THEN ss.search @@ (SELECT to_tsquery('english', ?)) ELSE false END",
			append(slices.Clone(with.args), tsq)})
		return nil
	case broad:
		with.where = append(with.where, cond{"(ss.search @@ (SELECT to_tsquery('english', ?))) IS TRUE", []any{tsq}})
		return nil
	}
	for i, t := range with.tests {
		with.where = append(with.where, cond{t, []any{with.args[i]}})
	}
	with.where = append(with.where, cond{"ss.search @@ (SELECT to_tsquery('english', ?))", []any{tsq}})
	return nil
}

// alongside holds the tag and channel filters (those with a bit of their
// own) that a search takes along with its words instead of as conditions
// of their own: on SQLite their full-text tokens ("t7", "c2"; see
// migrations.storiesSearchMembers), which FTS5 intersects with the words'
// matches; on PostgreSQL, when the filter walks the index, their bit tests
// (see pgMatch). where holds a PostgreSQL search's conditions on
// story_search (see applyFilter).
type alongside struct {
	sqlite bool
	tokens []string
	tests  []string
	args   []any
	where  []cond
}

// cond is a condition and its arguments.
type cond struct {
	sql  string
	args []any
}

// The counts that decide a PostgreSQL search's plan (see pgMatch and
// lastIsPrefix), run through viaIndex.
const (
	pgMatchCount = "SELECT count(*) FROM (SELECT 1 FROM story_search WHERE search @@ to_tsquery('english', ?) LIMIT ?) m"
	pgWordCount  = "SELECT count(*) FROM (SELECT 1 FROM story_search WHERE search @@ to_tsquery('english', ?) LIMIT 1) m"
)

// viaIndex runs fn in a read transaction in which PostgreSQL may not scan
// whole tables, so the counts above go through the GIN index. Left to
// itself, for a word few or no stories have, PostgreSQL expects a match
// within the first rows and reads the whole table looking for it: 100 ms
// at 100,000 stories, 150 to 250 under load, for every unfinished word
// typed (once per word and replica every choicesTTL), where the index
// answers in a tenth of a millisecond. For a common word the index costs a
// few milliseconds more than stopping at the first rows, once per
// choicesTTL.
func (s *Service) viaIndex(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.read.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// broadSearch is the match count above which a filter or a PostgreSQL search
// walks the recency index instead of sorting the matches.
var broadSearch int64 = 2000

// broadShare: a tag or channel filter with exact bits also walks the index
// when at least one story in broadShare has the value (see memberFilter).
var broadShare int64 = 200

// ftsQuery quotes each term so user input is never FTS5 syntax, and looks
// for the terms in the text columns only; with prefix, the last term
// matches as a prefix (see lastIsPrefix). Each of tokens (a tag's or a
// channel's, see memberFilter) must be in the search_members column too.
func ftsQuery(terms []string, prefix bool, tokens ...string) string {
	parts := searchTerms(terms)
	if len(parts) == 0 {
		return `""`
	}
	for i, t := range parts {
		parts[i] = `"` + t + `"`
	}
	if prefix {
		parts[len(parts)-1] += "*"
	}
	q := ftsText + "(" + strings.Join(parts, " ") + ")"
	for _, t := range tokens {
		q += ` AND {search_members} : "` + t + `"`
	}
	return q
}

// ftsText limits an FTS5 query to the story's text columns.
const ftsText = "{title summary body} : "

// tsQuery ANDs the cleaned terms (never tsquery syntax); with prefix, the
// last matches as a prefix.
func tsQuery(terms []string, prefix bool) string {
	parts := searchTerms(terms)
	if len(parts) == 0 {
		return ""
	}
	q := strings.Join(parts, " & ")
	if prefix {
		q += ":*"
	}
	return q
}

// lastIsPrefix decides whether the last search term matches as a prefix:
// only when no story has it as a whole word. A word still being typed
// ("surg") then finds surgery and surgeon, while a finished one
// ("transplant") matches its own forms (transplants, through the stemmer)
// without expanding a prefix over the whole index, which was half of a
// search's time. The answer is remembered like a query plan.
func (s *Service) lastIsPrefix(ctx context.Context, terms []string) (bool, error) {
	parts := searchTerms(terms)
	last := strings.ToLower(parts[len(parts)-1])
	whole, err := s.plans.remember(ctx, "word:"+last, func(ctx context.Context) (bool, error) {
		var n int64
		var err error
		if s.db.Dialector.Name() == "postgres" {
			err = s.viaIndex(ctx, func(tx *gorm.DB) error { return tx.Raw(pgWordCount, last).Scan(&n).Error })
		} else {
			err = s.read.WithContext(ctx).Raw("SELECT count(*) FROM (SELECT 1 FROM stories_fts WHERE stories_fts MATCH ? LIMIT 1) m", ftsText+`"`+last+`"`).Scan(&n).Error
		}
		return n > 0, err
	})
	return !whole, err
}

// searchTerms keeps the letters and digits of each term.
func searchTerms(terms []string) []string {
	var parts []string
	for _, t := range terms {
		t = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r
			}
			return -1
		}, t)
		if t != "" {
			parts = append(parts, t)
		}
	}
	return parts
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UTC().UnixMicro(), 10) + "." + id))
}

var errBadCursor = apperr.New(400, "That page link is not valid. Start again from the first page.")

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", errBadCursor
	}
	us, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || id == "" || us == "s" {
		return time.Time{}, "", errBadCursor
	}
	return time.UnixMicro(n).UTC(), id, nil
}

// Search results page on creation order (see applyFilter): the cursor is
// "s." and the last story's id (PostgreSQL) or its full-text rowid (SQLite).
func encodeSearchCursor(v string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s." + v))
}

func decodeSearchCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	v, ok := strings.CutPrefix(string(b), "s.")
	if err != nil || !ok || v == "" {
		return "", errBadCursor
	}
	return v, nil
}

// StageCount is how many stories are in one stage.
type StageCount struct {
	Stage string
	N     int64
}

// CountByStage counts stories per stage.
func (s *Service) CountByStage(ctx context.Context) (map[string]int64, error) {
	var rows []StageCount
	if err := s.read.WithContext(ctx).Model(&models.Story{}).Select("stage, COUNT(*) AS n").Group("stage").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("counting stories: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Stage] = r.N
	}
	return out, nil
}

// Choice is an option of a select list.
type Choice struct{ ID, Label string }

// Staff lists active staff for owner and collaborator choices.
func (s *Service) Staff(ctx context.Context) ([]models.User, error) {
	var us []models.User
	err := s.db.WithContext(ctx).Where("disabled_at IS NULL").Order("name, email").Find(&us).Error
	return us, err
}

// FilterStaff is Staff for the list page's filter, reused for up to
// choicesTTL: forms that pick an owner use Staff, which is always current.
func (s *Service) FilterStaff(ctx context.Context) ([]models.User, error) {
	return s.staff.get(ctx, s.Staff)
}

// PatientName is the name of patient id, for the list's patient filter and
// the story form ("" when there is no such patient). Choosing a patient
// happens on the patient chooser (a name search), never from a list of
// every patient: a hospital has thousands, and staff see only the names
// they search for.
func (s *Service) PatientName(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	var names []string
	err := s.read.WithContext(ctx).Model(&models.Patient{}).Where("id = ?", id).Limit(1).Pluck("full_name", &names).Error
	if err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}

// Interviews lists patientID's interviews, newest first, for the story
// form's interview choice.
func (s *Service) Interviews(ctx context.Context, patientID string) ([]models.Interview, error) {
	var out []models.Interview
	if patientID == "" {
		return out, nil
	}
	err := s.db.WithContext(ctx).Where("patient_id = ?", patientID).Order("scheduled_at DESC").Limit(500).Find(&out).Error
	return out, err
}

// Tags lists the tags in use, for the filter.
func (s *Service) Tags(ctx context.Context) ([]string, error) {
	return s.tags.get(ctx, func(ctx context.Context) ([]string, error) {
		// From the tags table (every tag ever used), keeping those some story
		// still has: one index probe per tag, where DISTINCT over story_tags
		// read every row (36 ms on PostgreSQL over 100,000 stories).
		var out []string
		err := s.read.WithContext(ctx).Raw(`SELECT t.tag FROM tags t WHERE EXISTS (SELECT 1 FROM story_tags st WHERE st.tag = t.tag)
			ORDER BY t.tag LIMIT 500`).Scan(&out).Error
		return out, err
	})
}

// Names are the people a story page names.
type Names struct {
	Owner, Patient string
	Collaborators  []string
}

// Names looks up the owner's, collaborators' and patient's names of st.
func (s *Service) Names(ctx context.Context, st *models.Story) (Names, error) {
	db := s.db.WithContext(ctx)
	var n Names
	var owner []string
	if err := db.Model(&models.User{}).Where("id = ?", st.OwnerID).Pluck("name", &owner).Error; err != nil {
		return n, err
	}
	if len(owner) > 0 {
		n.Owner = owner[0]
	}
	if len(st.Collaborators) > 0 {
		if err := db.Model(&models.User{}).Where("id IN ?", st.Collaborators).Order("name").Pluck("name", &n.Collaborators).Error; err != nil {
			return n, err
		}
	}
	var pat []string
	if err := db.Model(&models.Patient{}).Where("id = ?", st.PatientID).Pluck("full_name", &pat).Error; err != nil {
		return n, err
	}
	if len(pat) > 0 {
		n.Patient = pat[0]
	}
	return n, nil
}

// nameOwners fills each row's OwnerName from the staff names kept for
// choicesTTL (a renamed user's new name reaches lists within that time);
// owners not among them are looked up.
func (s *Service) nameOwners(ctx context.Context, rows []Row) error {
	names, err := s.names.get(ctx, func(ctx context.Context) (map[string]string, error) {
		var us []models.User
		if err := s.read.WithContext(ctx).Select("id, name").Find(&us).Error; err != nil {
			return nil, err
		}
		m := make(map[string]string, len(us))
		for _, u := range us {
			m[u.ID] = u.Name
		}
		return m, nil
	})
	if err != nil {
		return err
	}
	var missing []string
	for i := range rows {
		n, ok := names[rows[i].OwnerID]
		if !ok && !slices.Contains(missing, rows[i].OwnerID) {
			missing = append(missing, rows[i].OwnerID)
		}
		rows[i].OwnerName = n
	}
	if len(missing) == 0 {
		return nil
	}
	var us []models.User
	if err := s.read.WithContext(ctx).Select("id, name").Where("id IN ?", missing).Find(&us).Error; err != nil {
		return err
	}
	found := map[string]string{}
	for _, u := range us {
		found[u.ID] = u.Name
	}
	for i := range rows {
		if n, ok := found[rows[i].OwnerID]; ok {
			rows[i].OwnerName = n
		}
	}
	return nil
}

// parseStoredTime reads a time as the SQLite driver stores it
// ("2006-01-02 15:04:05.999999999-07:00", with _time_format=sqlite) without
// time.Parse's general machinery. Anything else (a time written by SQL, say)
// is read the way the driver reads it, trying its layouts in order.
func parseStoredTime(v string) (time.Time, error) {
	if t, ok := parseStoredTimeFast(v); ok {
		return t, nil
	}
	ts := strings.TrimSuffix(v, "Z")
	for _, layout := range storedTimeLayouts {
		if t, err := time.ParseInLocation(layout, ts, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("reading the stored time %q: not a time", v)
}

// storedTimeLayouts are the SQLite driver's (modernc.org/sqlite) layouts.
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02",
}

func parseStoredTimeFast(v string) (time.Time, bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i] - '0'
			if c > 9 {
				return 0, false
			}
			n = n*10 + int(c)
		}
		return n, len(s) > 0
	}
	if len(v) < 25 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := num(v[0:4])
	mo, ok2 := num(v[5:7])
	d, ok3 := num(v[8:10])
	h, ok4 := num(v[11:13])
	mi, ok5 := num(v[14:16])
	sec, ok6 := num(v[17:19])
	rest, nsec := v[19:], 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		digits := rest[1:i]
		if len(digits) == 0 || len(digits) > 9 {
			return time.Time{}, false
		}
		nsec, _ = num(digits)
		for k := len(digits); k < 9; k++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return time.Time{}, false
	}
	oh, ok7 := num(rest[1:3])
	om, ok8 := num(rest[4:6])
	if !ok7 || !ok8 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	off := (oh*60 + om) * 60
	if rest[0] == '-' {
		off = -off
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC).Add(-time.Duration(off) * time.Second)
	if off != 0 {
		t = t.In(time.FixedZone("", off))
	}
	return t, true
}
