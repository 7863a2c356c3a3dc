package stories

import (
	"context"
	"fmt"
	"math"
	"strings"

	"gorm.io/gorm"
)

// ForcePlans makes every filter and PostgreSQL search take the broad plan
// (walk the recency index) or, with broad false, the narrow one (start from
// the matches). It forgets s's remembered plans on the way in and out so the
// next query decides afresh.
func ForcePlans(s *Service, broad bool) (restore func()) {
	old, oldShare := broadSearch, broadShare
	broadSearch, broadShare = math.MaxInt64, 0
	if broad {
		broadSearch = 1
	}
	s.plans.forget()
	return func() { broadSearch, broadShare = old, oldShare; s.plans.forget() }
}

// PlanIsBroad reports the plan s remembers for a filter ("story_tags:" or
// "story_channels:" and the value), and whether it remembers one.
func PlanIsBroad(s *Service, key string) (broad, ok bool) {
	s.plans.mu.Lock()
	defer s.plans.mu.Unlock()
	e, ok := s.plans.m[key]
	return e.answer, ok
}

// QueryPlan is the database's plan for List's query for f: SQLite's EXPLAIN
// QUERY PLAN details, or PostgreSQL's EXPLAIN lines.
func QueryPlan(s *Service, f Filter) ([]string, error) {
	sql, vars, err := ListSQL(s, f)
	if err != nil {
		return nil, err
	}
	sqlDB, err := s.read.DB()
	if err != nil {
		return nil, err
	}
	explain, col := "EXPLAIN ", 0
	if s.db.Dialector.Name() != "postgres" {
		explain, col = "EXPLAIN QUERY PLAN ", 3 // id, parent, notused, detail
	}
	rows, err := sqlDB.Query(explain+sql, vars...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, col+1)
		ptrs := make([]any, col+1)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vals[col]))
	}
	return out, rows.Err()
}

// ListSQL is the SQL and arguments of List's query for f.
func ListSQL(s *Service, f Filter) (string, []any, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	q, _, _, err := s.listQuery(context.Background(), f)
	if err != nil {
		return "", nil, err
	}
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&[]map[string]any{}).Statement
	return stmt.SQL.String(), stmt.Vars, nil
}

// CountPlans are PostgreSQL's plans for the counts that decide a search's
// plan, for tsq (see pgMatch and lastIsPrefix), as they are run.
func CountPlans(s *Service, tsq string) (string, error) {
	var lines []string
	err := s.viaIndex(context.Background(), func(tx *gorm.DB) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{{pgMatchCount, []any{tsq, broadSearch}}, {pgWordCount, []any{tsq}}} {
			var plan []string
			if err := tx.Raw("EXPLAIN "+q.sql, q.args...).Scan(&plan).Error; err != nil {
				return err
			}
			lines = append(lines, plan...)
		}
		return nil
	})
	return strings.Join(lines, "\n"), err
}
