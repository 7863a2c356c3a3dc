package stories

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/phi"
	"github.com/storykeep/storykeep/models"
)

// Finding is one PHI finding in one field of a story's current revision.
type Finding struct {
	phi.Finding
	N            int    // 1-based number, shown beside the highlight
	Fingerprint  string // stable id within the revision: field, kind, text, occurrence
	Acknowledged bool
}

// FieldScan is the scan of one field: its text with findings highlighted,
// and the findings.
type FieldScan struct {
	Field, Label string
	HTML         template.HTML
	Findings     []Finding
}

// Unacknowledged counts findings no reviewer has acknowledged.
func Unacknowledged(scans []FieldScan) int {
	n := 0
	for _, f := range scans {
		for _, x := range f.Findings {
			if !x.Acknowledged {
				n++
			}
		}
	}
	return n
}

// Scan runs the PHI scanner over the story text and each channel's copy of
// st's current revision, with the patient's names, and marks acknowledged findings.
func (s *Service) Scan(ctx context.Context, st *models.Story) ([]FieldScan, error) {
	return s.scan(s.db.WithContext(ctx), st)
}

func (s *Service) scan(tx *gorm.DB, st *models.Story) ([]FieldScan, error) {
	var p models.Patient
	if err := tx.Select("full_name, preferred_name").Where("id = ?", st.PatientID).Limit(1).Find(&p).Error; err != nil {
		return nil, err
	}
	var staff []string
	if err := tx.Model(&models.User{}).Where("id IN ?", st.OwnerIDs()).Pluck("name", &staff).Error; err != nil {
		return nil, err
	}
	var acked []string
	if err := tx.Model(&models.StoryPHIAck{}).Where("story_id = ? AND revision = ?", st.ID, st.Revision).Pluck("fingerprint", &acked).Error; err != nil {
		return nil, err
	}
	opts := phi.Options{PatientNames: nonEmpty(p.FullName, p.PreferredName), AllowNames: staff}
	fields := [][3]string{{"body", "Story", st.Body}}
	cp := Copy(st)
	for _, k := range st.Channels {
		if c, _ := channels.Get(k); c.Social() {
			fields = append(fields, [3]string{"copy-" + k, c.Label + " copy", cp[k]})
		}
	}
	var out []FieldScan
	n := 0
	for _, f := range fields {
		fs := FieldScan{Field: f[0], Label: f[1]}
		seen := map[string]int{}
		for _, x := range phi.Scan(f[2], opts) {
			n++
			key := f[0] + "\x00" + string(x.Kind) + "\x00" + strings.ToLower(x.Text)
			seen[key]++
			sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", key, seen[key])))
			fp := hex.EncodeToString(sum[:12])
			fs.Findings = append(fs.Findings, Finding{Finding: x, N: n, Fingerprint: fp, Acknowledged: slices.Contains(acked, fp)})
		}
		fs.HTML = highlight(f[2], fs.Findings)
		out = append(out, fs)
	}
	return out, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// highlight escapes text and wraps each finding in <mark>, numbered.
func highlight(text string, fs []Finding) template.HTML {
	var b strings.Builder
	last := 0
	for _, f := range fs {
		if f.Start < last || f.End > len(text) || f.Start > f.End {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[last:f.Start]))
		cls := "phi"
		if f.Acknowledged {
			cls += " acked"
		}
		fmt.Fprintf(&b, `<mark class="%s" id="phi-%d">%s<sup>%d</sup></mark>`, cls, f.N, template.HTMLEscapeString(text[f.Start:f.End]), f.N)
		last = f.End
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String()) //nolint:gosec // all text escaped above
}

// Acknowledge records that reviewer a has looked at the findings with the
// given fingerprints in revision `revision`, which must be the current one.
func (s *Service) Acknowledge(ctx context.Context, a Actor, id string, revision int, fingerprints []string) (int, error) {
	added := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if len(fingerprints) == 0 {
			return apperr.New(http.StatusUnprocessableEntity, "Tick the findings you have checked, then acknowledge them.")
		}
		if st.Revision != revision {
			return apperr.New(http.StatusConflict, fmt.Sprintf("The story changed since you opened the review (now revision %d). Nothing was acknowledged; reload and check the findings again.", st.Revision))
		}
		scans, err := s.scan(tx, st)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, f := range scans {
			for _, x := range f.Findings {
				known[x.Fingerprint] = !x.Acknowledged
			}
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, fp := range fingerprints {
			pending, ok := known[fp]
			if !ok {
				return apperr.New(http.StatusUnprocessableEntity, "One of the findings is not part of this revision. Reload the review and try again.")
			}
			if !pending {
				continue
			}
			known[fp] = false
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.StoryPHIAck{StoryID: id, Revision: revision, Fingerprint: fp, UserID: a.UserID, At: now})
			if res.Error != nil {
				return res.Error
			}
			added += int(res.RowsAffected)
		}
		if added == 0 {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "story.phi_ack", ObjectType: "story", ObjectID: id, Details: map[string]any{"revision": revision, "count": added}})
	})
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return 0, ae
	}
	return added, err
}
