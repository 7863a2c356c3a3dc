// Package patients keeps the people whose stories Storykeep tells. Date of
// birth, contact details and any record number are sealed with the data key
// before they reach the database; opening them is a "patient.view" that is
// audited every time. Audit entries name the fields that changed, never
// their values.
package patients

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/models"
)

// Service is the patient service.
type Service struct {
	db       *gorm.DB
	audit    *audit.Log
	keys     *crypto.Keyring
	Settings *Settings
	now      func() time.Time
	// contactHooks run inside the transaction of an update that changes a
	// ContactField (see OnContactChange).
	contactHooks []ContactHook
}

// ContactFields are the details that reach a patient's consent: where links
// and codes are sent (email, phone) and what the identity check asks (dob).
// Changing one is reserved to the staff entitled to the patient and ends
// their live consent requests (finding F10).
var ContactFields = []string{"dob", "email", "phone"}

// ContactHook runs in the transaction of an update that changed the named
// ContactFields of patient patientID; an error undoes the update.
type ContactHook func(ctx context.Context, tx *gorm.DB, patientID string, fields []string) error

// OnContactChange registers h (the consent service cancels the patient's
// live requests and tells their owners). Call it while wiring, before use.
func (s *Service) OnContactChange(h ContactHook) { s.contactHooks = append(s.contactHooks, h) }

// Entitled are the staff entitled to a patient: the owners and
// collaborators of the patient's stories, or, while the patient has no
// story, whoever added them. It implements authz.Owned.
type Entitled []string

// OwnerIDs implements authz.Owned.
func (e Entitled) OwnerIDs() []string { return e }

// ErrNotEntitled refuses a contact change by staff not entitled to the patient.
var ErrNotEntitled = apperr.New(http.StatusForbidden,
	"Only an admin or the staff working on this patient's stories can change their date of birth, email or phone.")

func (s *Service) entitled(tx *gorm.DB, p *models.Patient) (Entitled, error) {
	var owners, collaborators []string
	if err := tx.Model(&models.Story{}).Where("patient_id = ?", p.ID).Pluck("owner_id", &owners).Error; err != nil {
		return nil, err
	}
	if len(owners) == 0 {
		return Entitled{p.CreatedBy}, nil
	}
	err := tx.Model(&models.StoryCollaborator{}).
		Where("story_id IN (?)", tx.Model(&models.Story{}).Select("id").Where("patient_id = ?", p.ID)).
		Pluck("user_id", &collaborators).Error
	return Entitled(append(owners, collaborators...)), err
}

// New returns the service.
func New(db *gorm.DB, log *audit.Log, keys *crypto.Keyring) *Service {
	return &Service{db: db, audit: log, keys: keys, Settings: &Settings{db: db, audit: log}, now: time.Now}
}

// Details is a patient with sealed fields opened, for the details page and
// the edit form only.
type Details struct {
	models.Patient
	DOB, Email, Phone, MRN string
}

// Input returns the details as form input (for the edit form).
func (d *Details) Input() Input {
	return Input{FullName: d.FullName, PreferredName: d.PreferredName, DOB: d.DOB, Email: d.Email, Phone: d.Phone,
		Language: d.PreferredLanguage, MRN: d.MRN, RepName: d.RepName, RepRelationship: d.RepRelationship, RepAuthority: d.RepAuthority}
}

// ErrNotFound is returned for an unknown patient id.
var ErrNotFound = apperr.NotFound("That patient does not exist.")

// sealedFields pairs each sealed column with its form field name; the name is
// also the last part of the value's aad ("patient:<id>:<name>").
var sealedFields = []string{"dob", "email", "phone", "mrn"}

func sealedValue(in Input, field string) string {
	switch field {
	case "dob":
		return in.DOB
	case "email":
		return in.Email
	case "phone":
		return in.Phone
	}
	return in.MRN
}

func (s *Service) seal(id, field, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return s.keys.Seal(plain, "patient:"+id+":"+field)
}

func (s *Service) open(id, field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	return s.keys.Open(sealed, "patient:"+id+":"+field)
}

// apply copies in onto p, sealing what must be sealed.
func (s *Service) apply(p *models.Patient, in Input, mrnEnabled bool) error {
	p.FullName, p.NameKey, p.PreferredName = in.FullName, strings.ToLower(in.FullName), in.PreferredName
	p.PreferredLanguage = in.Language
	p.RepName, p.RepRelationship, p.RepAuthority = in.RepName, in.RepRelationship, in.RepAuthority
	for _, f := range sealedFields {
		if f == "mrn" && !mrnEnabled {
			continue // a disabled MRN is neither stored nor cleared
		}
		v, err := s.seal(p.ID, f, sealedValue(in, f))
		if err != nil {
			return err
		}
		switch f {
		case "dob":
			p.DOBSealed = v
		case "email":
			p.EmailSealed = v
		case "phone":
			p.PhoneSealed = v
		case "mrn":
			p.MRNSealed = v
		}
	}
	return nil
}

// Create validates in and stores a new patient created by userID.
func (s *Service) Create(ctx context.Context, userID string, in Input) (*models.Patient, error) {
	mrn, err := s.Settings.MRNEnabled(ctx)
	if err != nil {
		return nil, err
	}
	if fe := validate(&in, mrn, s.now()); fe != nil {
		return nil, fe
	}
	p := &models.Patient{ID: uuid.Must(uuid.NewV7()).String(), CreatedBy: userID}
	if err := s.apply(p, in, mrn); err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		if err := indexName(tx, p); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "patient.create", ObjectType: "patient", ObjectID: p.ID,
			Details: map[string]any{"fields": changedFields(Input{}, in, mrn)}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CreateMany validates and stores many patients created by userID in one
// transaction, all of them or none (imports and the demo data set): each
// row as Create writes it (sealed fields, name index, a "patient.create"
// audit entry), inserted in batches. A FieldErrors refusal names the
// input's position as "N: field".
func (s *Service) CreateMany(ctx context.Context, userID string, ins []Input) ([]models.Patient, error) {
	mrn, err := s.Settings.MRNEnabled(ctx)
	if err != nil {
		return nil, err
	}
	ps := make([]models.Patient, len(ins))
	var prefixes []models.PatientNamePrefix
	entries := make([]audit.Entry, len(ins))
	for i := range ins {
		if fe := validate(&ins[i], mrn, s.now()); fe != nil {
			out := apperr.FieldErrors{}
			for k, v := range fe {
				out[strconv.Itoa(i+1)+": "+k] = v
			}
			return nil, out
		}
		p := &ps[i]
		p.ID, p.CreatedBy = uuid.Must(uuid.NewV7()).String(), userID
		if err := s.apply(p, ins[i], mrn); err != nil {
			return nil, err
		}
		for _, pre := range models.NamePrefixes(p.NameKey) {
			prefixes = append(prefixes, models.PatientNamePrefix{Prefix: pre, NameKey: p.NameKey, PatientID: p.ID})
		}
		entries[i] = audit.Entry{Action: "patient.create", ObjectType: "patient", ObjectID: p.ID,
			Details: map[string]any{"fields": changedFields(Input{}, ins[i], mrn)}}
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(ps, 200).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(prefixes, 1000).Error; err != nil {
			return err
		}
		return s.audit.RecordMany(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// Update validates in and replaces patient id's fields, auditing the names
// of the fields that changed. Nothing changed means nothing is written.
// A change to a ContactField needs mayChangeContact to accept the staff
// entitled to the patient (the caller asks its policy: authz.PatientsContact
// with AllowedOn); otherwise it is refused with ErrNotEntitled, and the
// contact hooks run in the same transaction.
func (s *Service) Update(ctx context.Context, id string, in Input, mayChangeContact func(Entitled) bool) error {
	mrn, err := s.Settings.MRNEnabled(ctx)
	if err != nil {
		return err
	}
	if fe := validate(&in, mrn, s.now()); fe != nil {
		return fe
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old, err := s.details(tx, id)
		if err != nil {
			return err
		}
		changed := changedFields(old.Input(), in, mrn)
		if len(changed) == 0 {
			return nil
		}
		var contact []string
		for _, f := range changed {
			if slices.Contains(ContactFields, f) {
				contact = append(contact, f)
			}
		}
		if len(contact) > 0 {
			ent, err := s.entitled(tx, &old.Patient)
			if err != nil {
				return err
			}
			if mayChangeContact == nil || !mayChangeContact(ent) {
				return ErrNotEntitled
			}
		}
		p := old.Patient
		if err := s.apply(&p, in, mrn); err != nil {
			return err
		}
		p.UpdatedAt = time.Now().UTC()
		if err := tx.Select("*").Omit("created_at", "created_by").Updates(&p).Error; err != nil {
			return err
		}
		if p.NameKey != old.Patient.NameKey {
			if err := tx.Where("patient_id = ?", id).Delete(&models.PatientNamePrefix{}).Error; err != nil {
				return err
			}
			if err := indexName(tx, &p); err != nil {
				return err
			}
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "patient.update", ObjectType: "patient", ObjectID: id,
			Details: map[string]any{"fields": changed}}); err != nil {
			return err
		}
		if len(contact) == 0 {
			return nil
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "patient.contact_change", ObjectType: "patient", ObjectID: id,
			Details: map[string]any{"fields": contact}}); err != nil {
			return err
		}
		for _, h := range s.contactHooks {
			if err := h(ctx, tx, id, contact); err != nil {
				return err
			}
		}
		return nil
	})
}

// indexName adds p's name to the name search's index (see List and
// models.PatientNamePrefix).
func indexName(tx *gorm.DB, p *models.Patient) error {
	prefixes := models.NamePrefixes(p.NameKey)
	if len(prefixes) == 0 {
		return nil
	}
	rows := make([]models.PatientNamePrefix, len(prefixes))
	for i, pre := range prefixes {
		rows[i] = models.PatientNamePrefix{Prefix: pre, NameKey: p.NameKey, PatientID: p.ID}
	}
	return tx.Create(&rows).Error
}

// changedFields names the form fields whose values differ between a and b.
func changedFields(a, b Input, mrnEnabled bool) []string {
	pairs := []struct {
		name string
		x, y string
	}{
		{"full_name", a.FullName, b.FullName}, {"preferred_name", a.PreferredName, b.PreferredName},
		{"dob", a.DOB, b.DOB}, {"email", a.Email, b.Email}, {"phone", a.Phone, b.Phone},
		{"language", a.Language, b.Language}, {"mrn", a.MRN, b.MRN},
		{"rep_name", a.RepName, b.RepName}, {"rep_relationship", a.RepRelationship, b.RepRelationship},
		{"rep_authority", a.RepAuthority, b.RepAuthority},
	}
	out := []string{}
	for _, p := range pairs {
		if p.name == "mrn" && !mrnEnabled {
			continue
		}
		if p.x != p.y {
			out = append(out, p.name)
		}
	}
	return out
}

// Get returns a patient without opening sealed fields or auditing: for
// names in lists, headings and links.
func (s *Service) Get(ctx context.Context, id string) (*models.Patient, error) {
	var p models.Patient
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &p, err
}

// View opens patient id's details and audits the view ("patient.view"),
// in one transaction: no details are returned unless the view is recorded.
// purpose ("view", "edit") is recorded too.
func (s *Service) View(ctx context.Context, id, purpose string) (*Details, error) {
	var d *Details
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if d, err = s.details(tx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "patient.view", ObjectType: "patient", ObjectID: id,
			Details: map[string]any{"purpose": purpose}})
	})
	return d, err
}

func (s *Service) details(tx *gorm.DB, id string) (*Details, error) {
	var p models.Patient
	err := tx.Where("id = ?", id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d := &Details{Patient: p}
	for _, f := range []struct {
		name   string
		sealed string
		dst    *string
	}{{"dob", p.DOBSealed, &d.DOB}, {"email", p.EmailSealed, &d.Email}, {"phone", p.PhoneSealed, &d.Phone}, {"mrn", p.MRNSealed, &d.MRN}} {
		v, err := s.open(p.ID, f.name, f.sealed)
		if err != nil {
			return nil, apperr.Wrap(500, "This patient's details cannot be decrypted with the configured keys. Tell your admin.", err)
		}
		*f.dst = v
	}
	return d, nil
}
