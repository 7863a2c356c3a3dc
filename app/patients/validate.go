package patients

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storykeep/storykeep/app/users"
)

// Input is a patient as typed into the form. Every field is a string so a
// rejected form can be shown again exactly as submitted.
type Input struct {
	FullName        string
	PreferredName   string
	DOB             string // YYYY-MM-DD
	Email           string
	Phone           string
	Language        string // en or es
	MRN             string // ignored unless the MRN setting is on
	RepName         string
	RepRelationship string
	RepAuthority    string
}

// Languages a patient may prefer: the consent form exists in these.
var Languages = map[string]string{"en": "English", "es": "Spanish"}

// normalise trims every field and lower-cases the email address.
func (in *Input) normalise() {
	for _, f := range []*string{&in.FullName, &in.PreferredName, &in.DOB, &in.Email, &in.Phone, &in.Language, &in.MRN, &in.RepName, &in.RepRelationship, &in.RepAuthority} {
		*f = strings.TrimSpace(*f)
	}
	in.Email = strings.ToLower(in.Email)
	in.Phone = strings.Join(strings.Fields(in.Phone), " ")
}

// validate returns a message per bad field (keys are the form's field
// names), or nil. now is passed in so tests can pin "today".
func validate(in *Input, mrnEnabled bool, now time.Time) users.FieldErrors {
	in.normalise()
	fe := users.FieldErrors{}
	tooLong := func(field, v, label string, max int) {
		if utf8.RuneCountInString(v) > max {
			fe[field] = label + " must be at most " + strconv.Itoa(max) + " characters."
		}
	}
	if in.FullName == "" {
		fe["full_name"] = "Enter the patient's full name."
	}
	tooLong("full_name", in.FullName, "Full name", 200)
	tooLong("preferred_name", in.PreferredName, "Preferred name", 100)
	if in.DOB != "" {
		d, err := time.Parse("2006-01-02", in.DOB)
		today := now.UTC().Truncate(24 * time.Hour)
		switch {
		case err != nil:
			fe["dob"] = "Enter the date of birth as YYYY-MM-DD, for example 1984-07-21."
		case d.After(today):
			fe["dob"] = "Date of birth cannot be in the future."
		case d.Year() < 1900:
			fe["dob"] = "Date of birth must be after 1900."
		}
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || !strings.Contains(in.Email[strings.LastIndex(in.Email, "@"):], ".") {
			fe["email"] = "Enter an email address like name@example.org."
		}
	}
	if in.Phone != "" && !validPhone(in.Phone) {
		fe["phone"] = "Enter a phone number using digits, spaces and an optional leading +, for example +1 555 010 0199."
	}
	if _, ok := Languages[in.Language]; !ok {
		fe["language"] = "Choose English or Spanish."
	}
	if mrnEnabled && in.MRN != "" && !validMRN(in.MRN) {
		fe["mrn"] = "A medical record number has 1 to 40 letters, digits or dashes."
	}
	tooLong("rep_name", in.RepName, "Representative's name", 200)
	tooLong("rep_relationship", in.RepRelationship, "Relationship", 100)
	tooLong("rep_authority", in.RepAuthority, "Authority", 1000)
	anyRep := in.RepName != "" || in.RepRelationship != "" || in.RepAuthority != ""
	if anyRep {
		if in.RepName == "" {
			fe["rep_name"] = "Enter the representative's name, or clear the other representative fields."
		}
		if in.RepRelationship == "" && fe["rep_relationship"] == "" {
			fe["rep_relationship"] = "Enter how the representative is related to the patient (for example parent, guardian)."
		}
		if in.RepAuthority == "" && fe["rep_authority"] == "" {
			fe["rep_authority"] = "Describe the representative's authority to act for the patient (for example parent of a minor, healthcare power of attorney)."
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

func validPhone(p string) bool {
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

func validMRN(m string) bool {
	if len(m) > 40 {
		return false
	}
	for _, r := range m {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}
