package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/storykeep/storykeep/models"
)

// patientNamePrefixes creates patient_name_prefixes, the index behind the
// patient name search, and fills it for the patients already there: a row
// for each beginning of each word of a patient's name key
// (models.NamePrefixes), with the name key. The search matches a prefix at
// the start of any word ("lop" finds Maria Lopez), which no index on the
// name itself can serve: it read the names in order until a page of them
// matched, all 25,000 for a name nobody has (2.3 ms on PostgreSQL, and
// growing with the hospital). Now it reads the rows of its prefix, which
// come in name order, and stops after a page. The rows are kept by
// patients.Service with the name.
func patientNamePrefixes(ctx context.Context, tx *sql.Tx, dialect string) error {
	create := `CREATE TABLE patient_name_prefixes (prefix TEXT NOT NULL, name_key TEXT NOT NULL, patient_id TEXT NOT NULL REFERENCES patients(id),
		PRIMARY KEY (prefix, name_key, patient_id))`
	if dialect != "postgres" {
		create += " WITHOUT ROWID"
	}
	if err := execAll(ctx, tx, create, `CREATE INDEX patient_name_prefixes_patient_idx ON patient_name_prefixes (patient_id)`); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name_key FROM patients`)
	if err != nil {
		return err
	}
	var all [][3]string
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return err
		}
		for _, p := range models.NamePrefixes(key) {
			all = append(all, [3]string{p, key, id})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	const batch = 1000
	for len(all) > 0 {
		n := min(batch, len(all))
		marks := make([]string, n)
		args := make([]any, 0, 3*n)
		for i, r := range all[:n] {
			marks[i] = "(?, ?, ?)"
			if dialect == "postgres" {
				marks[i] = fmt.Sprintf("($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
			}
			args = append(args, r[0], r[1], r[2])
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO patient_name_prefixes (prefix, name_key, patient_id) VALUES `+strings.Join(marks, ", "), args...); err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}
