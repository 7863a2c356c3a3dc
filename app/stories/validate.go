package stories

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// Limits on story fields.
const (
	MaxTitle   = 200
	MaxSummary = 1000
	MaxBody    = 200 * 1024 // bytes of Markdown
	MaxSlug    = 100
	MaxTags    = 20
	MaxTag     = 40
)

// Input is a story as a form submits it.
type Input struct {
	Title         string            `json:"title"`
	Slug          string            `json:"slug"`
	Summary       string            `json:"summary"`
	Body          string            `json:"body"`
	Tags          string            `json:"tags"` // comma-separated
	Channels      []string          `json:"channels"`
	Copy          map[string]string `json:"copy"` // channel key -> text
	OwnerID       string            `json:"owner"`
	Collaborators []string          `json:"collaborators"`
	PatientID     string            `json:"patient"`
	InterviewID   string            `json:"interview"`
}

// SlugPattern is what a story's address must look like.
var SlugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slugify makes an address from a title: accents dropped, lower case,
// anything else a single hyphen, cut at a word boundary.
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(title)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	for len(s) > 80 {
		i := strings.LastIndexByte(s[:80], '-')
		if i <= 0 {
			s = s[:80]
			break
		}
		s = s[:i]
	}
	return s
}

// ParseTags splits, trims, lower-cases and de-duplicates a tag list.
func ParseTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// normalise trims the input and keeps only known channels and the copy of
// selected social channels, returning the tags.
func (in *Input) normalise() []string {
	in.Title = strings.TrimSpace(in.Title)
	in.Slug = strings.TrimSpace(in.Slug)
	if in.Slug == "" {
		in.Slug = Slugify(in.Title)
	}
	in.Summary = strings.TrimSpace(in.Summary)
	in.Body = strings.ReplaceAll(in.Body, "\r\n", "\n")
	in.OwnerID = strings.TrimSpace(in.OwnerID)
	in.PatientID = strings.TrimSpace(in.PatientID)
	in.InterviewID = strings.TrimSpace(in.InterviewID)
	var chans []string
	for _, c := range channels.All {
		if slices.Contains(in.Channels, c.Key) {
			chans = append(chans, c.Key)
		}
	}
	unknown := len(in.Channels) != len(chans)
	copies := map[string]string{}
	for _, k := range chans {
		if c, _ := channels.Get(k); c.Social() {
			copies[k] = strings.ReplaceAll(strings.TrimSpace(in.Copy[k]), "\r\n", "\n")
		}
	}
	if unknown {
		chans = append(chans, "?")
	}
	in.Channels, in.Copy = chans, copies
	var collab []string
	for _, id := range in.Collaborators {
		if id = strings.TrimSpace(id); id != "" && id != in.OwnerID && !slices.Contains(collab, id) {
			collab = append(collab, id)
		}
	}
	slices.Sort(collab)
	in.Collaborators = collab
	tags := ParseTags(in.Tags)
	slices.Sort(tags)
	return tags
}

// validate checks in against the rules and the database (slug, people,
// patient, interview). selfID is the story being edited ("" on create).
func validate(ctx context.Context, tx *gorm.DB, in *Input, tags []string, selfID string) (users.FieldErrors, error) {
	fe, slugOK := validateFields(in, tags)
	if slugOK {
		var n int64
		if err := tx.Model(&models.Story{}).Where("slug = ? AND id <> ?", in.Slug, selfID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			fe["slug"] = slugTaken(in.Slug)
		}
	}
	if err := checkPeople(tx, in, fe); err != nil {
		return nil, err
	}
	if err := checkPatient(tx, in, fe); err != nil {
		return nil, err
	}
	if len(fe) == 0 {
		return nil, nil
	}
	return fe, nil
}

func slugTaken(slug string) string {
	return "Another story already uses the address " + slug + ". Choose a different one."
}

// validateFields checks what needs no database; slugOK says the slug is
// well-formed, so whether another story has it is the caller's to check.
func validateFields(in *Input, tags []string) (fe users.FieldErrors, slugOK bool) {
	fe = users.FieldErrors{}
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		fe["title"] = "Enter a title."
	case n > MaxTitle:
		fe["title"] = fmt.Sprintf("The title must be at most %d characters; it has %d.", MaxTitle, n)
	}
	switch {
	case in.Slug == "":
		fe["slug"] = "Enter an address (slug) such as maria-walks-again, or a title to make one from."
	case len(in.Slug) > MaxSlug:
		fe["slug"] = fmt.Sprintf("The address must be at most %d characters.", MaxSlug)
	case !SlugPattern.MatchString(in.Slug):
		fe["slug"] = "Use only lower-case letters a–z, digits and single hyphens between words, like maria-walks-again."
	default:
		slugOK = true
	}
	if n := utf8.RuneCountInString(in.Summary); n > MaxSummary {
		fe["summary"] = fmt.Sprintf("The summary must be at most %d characters; it has %d.", MaxSummary, n)
	}
	if len(in.Body) > MaxBody {
		fe["body"] = fmt.Sprintf("The story is %d KB; the limit is %d KB. Shorten it or split it into two stories.", (len(in.Body)+1023)/1024, MaxBody/1024)
	} else if !utf8.ValidString(in.Body) {
		fe["body"] = "The story contains text that is not valid UTF-8. Paste it again as plain text."
	}
	if len(tags) > MaxTags {
		fe["tags"] = fmt.Sprintf("Use at most %d tags.", MaxTags)
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > MaxTag {
			fe["tags"] = fmt.Sprintf("Each tag must be at most %d characters: %q is longer.", MaxTag, t)
		}
	}
	if slices.Contains(in.Channels, "?") {
		fe["channels"] = "Choose channels from the list."
	}
	for k, text := range in.Copy {
		c, _ := channels.Get(k)
		if over := channels.Over(c, text); over > 0 {
			fe["copy-"+k] = fmt.Sprintf("The %s copy is %d %s; %s allows %d. Shorten it by %d.", c.Label, channels.Count(c, text), strings.Fields(c.Unit)[0], c.Label, c.Limit, over)
		}
	}
	return fe, slugOK
}

func checkPeople(tx *gorm.DB, in *Input, fe users.FieldErrors) error {
	var owner models.User
	err := tx.Where("id = ?", in.OwnerID).Limit(1).Find(&owner).Error
	if err != nil {
		return err
	}
	var n int64
	if len(in.Collaborators) > 0 {
		if err := tx.Model(&models.User{}).Where("id IN ? AND disabled_at IS NULL", in.Collaborators).Count(&n).Error; err != nil {
			return err
		}
	}
	peopleRule(in, owner, int(n), fe)
	return nil
}

// peopleRule: the owner is an active storyteller or admin (owner is the
// zero User when there is none), and all activeCollaborators of the
// story's collaborators are active staff.
func peopleRule(in *Input, owner models.User, activeCollaborators int, fe users.FieldErrors) {
	if owner.ID == "" || !owner.Active() || (owner.Role != models.RoleStoryteller && owner.Role != models.RoleAdmin) {
		fe["owner"] = "Choose an active storyteller or admin as the owner."
	}
	if len(in.Collaborators) > 0 && activeCollaborators != len(in.Collaborators) {
		fe["collaborators"] = "Choose collaborators from the list of active staff."
	}
}

func checkPatient(tx *gorm.DB, in *Input, fe users.FieldErrors) error {
	var n int64
	if in.PatientID != "" {
		if err := tx.Model(&models.Patient{}).Where("id = ?", in.PatientID).Count(&n).Error; err != nil {
			return err
		}
	}
	var iv models.Interview
	if n > 0 && in.InterviewID != "" {
		if err := tx.Where("id = ?", in.InterviewID).Limit(1).Find(&iv).Error; err != nil {
			return err
		}
	}
	patientRule(in, n > 0, iv, fe)
	return nil
}

// patientRule: the story is about a stored patient, and its interview (iv,
// the zero Interview when there is none) is one with that patient.
func patientRule(in *Input, patientExists bool, iv models.Interview, fe users.FieldErrors) {
	switch {
	case in.PatientID == "":
		fe["patient"] = "Choose the patient this story is about."
	case !patientExists:
		fe["patient"] = "Unknown patient: choose the patient again, or add them first."
	case in.InterviewID != "" && (iv.ID == "" || iv.PatientID != in.PatientID):
		fe["interview"] = "Choose an interview with this patient, or none."
	}
}
