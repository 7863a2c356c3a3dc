package consent

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storykeep/storykeep/app/apperr"
	smtpmail "github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/models"
)

// Representatives and minors (issue 19 item 7).
//
// A request may be addressed to a personal representative: their own name,
// relationship, authority, email and phone travel on the request (email and
// phone sealed), the invitation, codes and signed copy go to the
// representative's address, and the pages speak to them as the
// representative. The identity check still asks for the *patient's* date
// of birth. A patient under the age of majority needs a representative
// unless staff record a reasoned exception (audited); a teenager may add
// their assent beside the representative's signature. At majority the
// consent lapses (Settings.KeepAtMajority turns that off): see majority.go.

// DefaultAgeOfMajority and DefaultAssentAge apply when Settings leave them 0.
const (
	DefaultAgeOfMajority = 18
	DefaultAssentAge     = 12
)

// MinExceptionReason is the shortest reason staff may give for letting a
// minor sign alone: a word or two is not a reason.
const MinExceptionReason = 20

// AgeOfMajority is the organisation's age of majority.
func (s *Service) AgeOfMajority() int {
	if s.cfg.AgeOfMajority > 0 {
		return s.cfg.AgeOfMajority
	}
	return DefaultAgeOfMajority
}

// AssentAge is the age from which a minor may add assent.
func (s *Service) AssentAge() int {
	if s.cfg.AssentAge > 0 {
		return s.cfg.AssentAge
	}
	return DefaultAssentAge
}

// AgeOn returns the full years on day t of someone born on dob (YYYY-MM-DD);
// ok is false when dob is not a date. A birthday on 29 February counts on
// 1 March in other years (time.AddDate normalises it so).
func AgeOn(dob string, t time.Time) (years int, ok bool) {
	d, err := time.Parse("2006-01-02", dob)
	if err != nil {
		return 0, false
	}
	years = t.Year() - d.Year()
	if t.Before(d.AddDate(years, 0, 0)) {
		years--
	}
	return years, true
}

// majorityOn is the day someone born on dob reaches age.
func majorityOn(dob string, age int) (time.Time, bool) {
	d, err := time.Parse("2006-01-02", dob)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(age, 0, 0), true
}

// validateSigner checks who signs: a representative needs a name, a
// relationship, their authority and a valid email if one is given; a
// patient under the age of majority needs a representative unless staff
// give a reason. It fills the representative from the patient record when
// staff left the fields empty.
func (in *SendInput) validateSigner(fe FieldErrors, p *patients.Details, now time.Time, majority int) {
	in.RepName, in.RepRelationship = strings.TrimSpace(in.RepName), strings.TrimSpace(in.RepRelationship)
	in.RepAuthority, in.RepEmail, in.RepPhone = strings.TrimSpace(in.RepAuthority), strings.TrimSpace(in.RepEmail), strings.TrimSpace(in.RepPhone)
	in.MinorException, in.Sponsor = strings.TrimSpace(in.MinorException), strings.TrimSpace(in.Sponsor)
	switch in.SignerKind {
	case "representative":
		if in.RepName == "" && in.RepRelationship == "" && in.RepAuthority == "" {
			in.RepName, in.RepRelationship, in.RepAuthority = p.RepName, p.RepRelationship, p.RepAuthority
		}
		if in.RepName == "" || in.RepRelationship == "" || in.RepAuthority == "" {
			fe["signer"] = "Give the representative's name, their relationship to the patient and their legal authority (or add them to the patient record first)."
		}
		for _, v := range []string{in.RepName, in.RepRelationship, in.RepAuthority} {
			if utf8.RuneCountInString(v) > 200 {
				fe["signer"] = "The representative's name, relationship and authority can each be up to 200 characters."
			}
		}
		if in.RepEmail != "" {
			if a, err := mail.ParseAddress(in.RepEmail); err != nil || a.Address != in.RepEmail {
				fe["rep_email"] = "Enter the representative's email address, like name@example.org."
			}
		}
		if utf8.RuneCountInString(in.RepPhone) > 40 {
			fe["rep_phone"] = "Enter a phone number of up to 40 characters."
		}
		in.MinorException = ""
	case "patient":
		in.RepName, in.RepRelationship, in.RepAuthority, in.RepEmail, in.RepPhone = "", "", "", "", ""
		age, ok := AgeOn(p.DOB, now)
		if !ok || age >= majority {
			in.MinorException = ""
			break
		}
		if utf8.RuneCountInString(in.MinorException) < MinExceptionReason {
			fe["signer"] = "The patient is " + strconv.Itoa(age) + ", under " + strconv.Itoa(majority) +
				": a parent, guardian or other personal representative must sign. If the law lets this patient consent alone, record why (at least " +
				strconv.Itoa(MinExceptionReason) + " characters)."
		} else if utf8.RuneCountInString(in.MinorException) > 1000 {
			fe["minor_exception"] = "Keep the reason to 1000 characters."
		}
	}
	if in.Sponsored && (in.Sponsor == "" || utf8.RuneCountInString(in.Sponsor) > 200) {
		fe["sponsor"] = "Name who pays for sharing the story (up to 200 characters)."
	}
	if !in.Sponsored {
		in.Sponsor = ""
	}
}

// representativeLine is what the form prints for {{.Representative}}.
func representativeLine(name, relationship, authority string) string {
	return name + " (" + strings.Join(nonEmpty(relationship, authority), "; ") + ")"
}

// repOf returns the representative of r: the request's own, or for
// requests made before representatives had their own details, the patient
// record's.
func repOf(r *models.ConsentRequest, p *models.Patient) (name, relationship, authority string) {
	if r.SignerKind != "representative" {
		return "", "", ""
	}
	if r.RepName != "" {
		return r.RepName, r.RepRelationship, r.RepAuthority
	}
	return p.RepName, p.RepRelationship, p.RepAuthority
}

// RemunerationText is what the form prints for {{.Remuneration}}: whether
// the organisation is paid for the disclosure (45 CFR 164.508(a)(3)(ii) and
// (a)(4)) and by whom.
func RemunerationText(language, org string, sponsored bool, sponsor string) string {
	if language == "es" {
		if sponsored {
			return org + " recibe pago de " + sponsor + " por compartir esta historia. Esto es mercadeo con pago: " + sponsor +
				" paga, directa o indirectamente, para que la historia se publique. A usted no se le paga."
		}
		return "Nadie recibe pago por compartir su historia: " + org + " no recibe pago ni otra remuneración de nadie por ello, y a usted tampoco se le paga."
	}
	if sponsored {
		return org + " is paid by " + sponsor + " for sharing this story. This is marketing with payment: " + sponsor +
			" pays, directly or indirectly, for the story to be published. You are not paid."
	}
	return "No one is paid for sharing your story: " + org + " receives no payment or other remuneration from anyone for it, and you are not paid."
}

// Addressee is who the patient pages speak to.
type Addressee struct {
	Representative bool
	RepName        string
	Relationship   string
	Authority      string
	PatientFirst   string // the patient's preferred or first name
	// AssentOffered: the patient is a minor old enough to add assent.
	AssentOffered bool
	Minor         bool
}

// AddresseeOf says who signs r: the patient, or their representative
// (named, with their relationship and the patient's first name), and
// whether the minor may add assent. It reads the patient's date of birth
// (audited as purpose "consent_addressee").
func (s *Service) AddresseeOf(ctx context.Context, r *models.ConsentRequest) (Addressee, error) {
	pd, err := s.patients.View(patientCtx(ctx, r.ID, ""), r.PatientID, "consent_addressee")
	if err != nil {
		return Addressee{}, err
	}
	a := Addressee{PatientFirst: firstName(&pd.Patient)}
	a.RepName, a.Relationship, a.Authority = repOf(r, &pd.Patient)
	a.Representative = r.SignerKind == "representative"
	if age, ok := AgeOn(pd.DOB, s.now()); ok && age < s.AgeOfMajority() {
		a.Minor = true
		a.AssentOffered = a.Representative && age >= s.AssentAge()
	}
	return a, nil
}

func firstName(p *models.Patient) string {
	if n := strings.TrimSpace(p.PreferredName); n != "" {
		return n
	}
	if f := strings.Fields(p.FullName); len(f) > 0 {
		return f[0]
	}
	return ""
}

// sameName compares a typed name with the name on record: case, accents
// written as combining marks or not, and runs of spaces do not matter.
func sameName(typed, want string) bool {
	return want != "" && plainFold(typed) == plainFold(want)
}

// signerAddress is where mail for r's signer goes: the representative's
// own address for a representative, else the patient's (read audited as
// purpose). "" means none on file.
func (s *Service) signerAddress(ctx context.Context, r *models.ConsentRequest, purpose string) (string, error) {
	if r.SignerKind == "representative" && r.RepEmailSealed != "" {
		return s.keys.Open(r.RepEmailSealed, "consent-rep-email:"+r.ID)
	}
	if r.SignerKind == "representative" && r.RepName != "" {
		return "", nil // a representative with no email signs in person
	}
	pd, err := s.patients.View(ctx, r.PatientID, purpose)
	if err != nil {
		return "", err
	}
	return pd.Email, nil
}

// sealRep seals the representative's contact details onto r.
func (s *Service) sealRep(r *models.ConsentRequest, email, phone string) error {
	var err error
	if email != "" {
		if r.RepEmailSealed, err = s.keys.Seal(email, "consent-rep-email:"+r.ID); err != nil {
			return err
		}
	}
	if phone != "" {
		if r.RepPhoneSealed, err = s.keys.Seal(phone, "consent-rep-phone:"+r.ID); err != nil {
			return err
		}
	}
	return nil
}

// RepContact opens the representative's email and phone for staff.
func (s *Service) RepContact(r *models.ConsentRequest) (email, phone string) {
	if r.RepEmailSealed != "" {
		email, _ = s.keys.Open(r.RepEmailSealed, "consent-rep-email:"+r.ID)
	}
	if r.RepPhoneSealed != "" {
		phone, _ = s.keys.Open(r.RepPhoneSealed, "consent-rep-phone:"+r.ID)
	}
	return email, phone
}

// RepAttestation is the statement a representative attests to on signing,
// in language; the record keeps it as shown.
func RepAttestation(language, repName, relationship, authority, patientFirst string) string {
	if language == "es" {
		return fmt.Sprintf("Yo, %s, declaro que soy %s de %s y que tengo la autoridad legal para firmar en su nombre (%s).", repName, relationship, patientFirst, authority)
	}
	return fmt.Sprintf("I, %s, state that I am %s's %s and that I have the legal authority to sign for them (%s).", repName, patientFirst, relationship, authority)
}

// codeFor draws a six-digit code for r's signer and the address it goes to;
// no address on file gives a 409 saying so.
func (s *Service) codeFor(ctx context.Context, r *models.ConsentRequest, purpose string) (code, to string, err error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", "", err
	}
	if to, err = s.signerAddress(ctx, r, purpose); err != nil {
		return "", "", err
	}
	if to == "" {
		return "", "", apperr.New(http.StatusConflict, "No email address is on file.")
	}
	return fmt.Sprintf("%06d", n.Int64()), to, nil
}

// repInvitation tells a representative, in the invitation, whom they are
// asked to act for.
func (s *Service) repInvitation(ctx context.Context, r *models.ConsentRequest, m smtpmail.Message) smtpmail.Message {
	p, err := s.patients.Get(ctx, r.PatientID)
	if err != nil {
		return m
	}
	name, rel, _ := repOf(r, p)
	if r.Language == "es" {
		m.Text = fmt.Sprintf("Este mensaje es para %s. Le escribimos como %s de %s: le pedimos permiso para compartir la historia de %s. Usted firmaría en su nombre.\n\n", name, rel, firstName(p), firstName(p)) + m.Text
	} else {
		m.Text = fmt.Sprintf("This message is for %s. We are writing to you as %s's %s: we ask your permission to share %s's story. You would sign for them.\n\n", name, firstName(p), rel, firstName(p)) + m.Text
	}
	return m
}

// SignerOf says who signs r, for the identity check page, without reading
// sealed details: the representative's name and relationship and the
// patient's first name (empty strings when the patient signs).
func (s *Service) SignerOf(ctx context.Context, kind, repName, relationship, patientID string) (rep bool, name, rel, patientFirst string) {
	p, err := s.patients.Get(ctx, patientID)
	if err != nil {
		return false, "", "", ""
	}
	if kind != "representative" {
		return false, "", "", firstName(p)
	}
	if repName == "" {
		repName, relationship = p.RepName, p.RepRelationship
	}
	return true, repName, relationship, firstName(p)
}
