package models

import (
	"slices"
	"strings"
	"time"
)

// Patient is the subject of a story. Sealed fields hold ciphertext made by
// app/crypto (key id + AES-GCM); only services that audit the view open them.
type Patient struct {
	ID                string `gorm:"primaryKey"`
	FullName          string
	NameKey           string // lower-cased FullName: prefix search and keyset order
	PreferredName     string
	DOBSealed         string `gorm:"column:dob_sealed"`
	EmailSealed       string
	PhoneSealed       string
	MRNSealed         string `gorm:"column:mrn_sealed"`
	PreferredLanguage string
	RepName           string
	RepRelationship   string
	RepAuthority      string
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// PatientNamePrefix is one beginning of a word of a patient's name key,
// in the index behind the name search (see patients.Service.List): a row
// for each of "l", "lo", "lop", ... "lopez", up to NamePrefixRunes
// characters. Rows with the same prefix are in name order, so a search
// reads its page of names and stops, however many names match.
type PatientNamePrefix struct {
	Prefix    string `gorm:"primaryKey"`
	NameKey   string `gorm:"primaryKey"`
	PatientID string `gorm:"primaryKey"`
}

// NamePrefixRunes is the longest prefix PatientNamePrefix holds; a longer
// search reads the rows of its first NamePrefixRunes characters and matches
// the name in full.
const NamePrefixRunes = 8

// NamePrefixes returns the distinct prefixes, of one to NamePrefixRunes
// characters, of the words of a name key: its parts between ASCII spaces,
// the word starts the name search matches at.
func NamePrefixes(nameKey string) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, w := range strings.Split(nameKey, " ") {
		n := 0 // runes in w[:i]
		for i := range w {
			if i > 0 {
				add(w[:i])
				if n++; n == NamePrefixRunes {
					break
				}
			}
		}
		if w != "" && n < NamePrefixRunes {
			add(w)
		}
	}
	return out
}

// Interview statuses.
const (
	InterviewScheduled = "scheduled"
	InterviewCompleted = "completed"
	InterviewCancelled = "cancelled"
)

// Interview is a conversation with a patient from which a story is drafted.
type Interview struct {
	ID            string `gorm:"primaryKey"`
	PatientID     string
	InterviewerID string
	CreatedBy     string // who scheduled it; with the interviewer, its owners
	ScheduledAt   time.Time
	Location      string
	Remote        bool
	Notes         string
	Status        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}
