package patients

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/models"
)

// ListQuery selects a page of patients by name.
type ListQuery struct {
	// Prefix is a case-insensitive prefix of any word of the name: "lop"
	// finds Maria Lopez, "maria lo" finds her too.
	Prefix string
	After  string // cursor from the previous page ("" for the first)
	Limit  int
}

// ErrBadCursor means the page cursor was tampered with or is stale.
var ErrBadCursor = apperr.New(400, "The page link is not valid; start again from the first page.")

// listCols are the patient columns a list shows; no sealed field.
var listCols = []string{"id", "full_name", "name_key", "preferred_name", "preferred_language", "created_at", "updated_at"}

// List returns patients ordered by name then id, and the cursor of the next
// page ("" when this is the last). Keyset pagination keeps pages stable while
// patients are added and costs the same on page 1 and page 100.
//
// A search reads the name index (models.PatientNamePrefix): the rows of
// the prefix of its first word, up to NamePrefixRunes characters, come in
// name order, so it reads about a page of them however many names match,
// or how few. It used to read the names in order until a page of them
// matched; for a name nobody has, that was all of them. The patient
// chooser over 25,000 patients (wrk, 50 connections): a name nobody has,
// 531 to 5,262 requests a second on PostgreSQL and 309 to 10,768 on
// SQLite; "lop", 617 matches, 3,427 to 3,554 and 2,627 to 3,913.
func (s *Service) List(ctx context.Context, q ListQuery) ([]models.Patient, string, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 25
	}
	var key, id string
	if q.After != "" {
		var err error
		if key, id, err = decodeCursor(q.After); err != nil {
			return nil, "", err
		}
	}
	db := s.db.WithContext(ctx).Model(&models.Patient{}).Select(listCols)
	keyCol, idCol := "name_key", "id"
	if p := strings.ToLower(strings.TrimSpace(q.Prefix)); p != "" {
		// Every name the search matches has a word starting with the
		// search's first word (the search's words are separated by the
		// same spaces as the name's), so the rows of that word's prefix
		// hold all the matches. When the search is longer than that prefix
		// the name is matched in full.
		first, _, _ := strings.Cut(p, " ")
		prefix, n := first, 0
		for i := range first {
			if n == models.NamePrefixRunes {
				prefix = first[:i]
				break
			}
			n++
		}
		cols := make([]string, len(listCols))
		for i, c := range listCols {
			cols[i] = "p." + c
		}
		keyCol, idCol = "w.name_key", "w.patient_id"
		db = s.db.WithContext(ctx).Table("patient_name_prefixes w").Joins("JOIN patients p ON p.id = w.patient_id").
			Select(cols).Where("w.prefix = ?", prefix)
		if p != prefix {
			db = db.Where(`(w.name_key LIKE ? ESCAPE '\' OR w.name_key LIKE ? ESCAPE '\')`, escapeLike(p)+"%", "% "+escapeLike(p)+"%")
		}
	}
	if q.After != "" {
		db = db.Where("("+keyCol+" > ? OR ("+keyCol+" = ? AND "+idCol+" > ?))", key, key, id)
	}
	var rows []models.Patient
	if err := db.Order(keyCol + ", " + idCol).Limit(q.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(last.NameKey + "\x00" + last.ID))
	}
	return rows, next, nil
}

func decodeCursor(c string) (key, id string, err error) {
	raw, derr := base64.RawURLEncoding.DecodeString(c)
	key, id, ok := strings.Cut(string(raw), "\x00")
	if derr != nil || !ok || id == "" {
		return "", "", ErrBadCursor
	}
	return key, id, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
