package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/users"
)

// formField describes one input for the "field-list" partial, so forms with
// many fields keep label, hint, value and error wired together the same way.
type formField struct {
	ID, Label, Type, Value, Error, Hint, Autocomplete string
	Required                                          bool
	Options                                           []fieldOption
}

type fieldOption struct{ Value, Label string }

// DescribedBy lists the ids of the hint and error that describe the input.
func (f formField) DescribedBy() string {
	out := ""
	if f.Hint != "" {
		out = f.ID + "-hint"
	}
	if f.Error != "" {
		if out != "" {
			out += " "
		}
		out += f.ID + "-error"
	}
	return out
}

// may reports whether the signed-in user holds p (to show or hide links).
func (s *Server) may(c echo.Context, p authz.Perm) bool {
	u := currentUser(c)
	return u != nil && s.authz.Allowed(authz.Subject{UserID: u.ID, Role: u.Role}, p)
}

func patientForm(c echo.Context) map[string]string {
	form := map[string]string{}
	for _, k := range []string{"full_name", "preferred_name", "dob", "email", "phone", "language", "mrn", "rep_name", "rep_relationship", "rep_authority"} {
		form[k] = c.FormValue(k)
	}
	return form
}

func inputFrom(f map[string]string) patients.Input {
	return patients.Input{FullName: f["full_name"], PreferredName: f["preferred_name"], DOB: f["dob"], Email: f["email"], Phone: f["phone"],
		Language: f["language"], MRN: f["mrn"], RepName: f["rep_name"], RepRelationship: f["rep_relationship"], RepAuthority: f["rep_authority"]}
}

func formFrom(in patients.Input) map[string]string {
	return map[string]string{"full_name": in.FullName, "preferred_name": in.PreferredName, "dob": in.DOB, "email": in.Email, "phone": in.Phone,
		"language": in.Language, "mrn": in.MRN, "rep_name": in.RepName, "rep_relationship": in.RepRelationship, "rep_authority": in.RepAuthority}
}

// patientFields builds the patient form: the patient, then the optional
// personal representative. The MRN field exists only when enabled.
func patientFields(form, errs map[string]string, mrn bool) (patient, rep []formField) {
	f := func(id, label, typ, hint, auto string, req bool) formField {
		return formField{ID: id, Label: label, Type: typ, Hint: hint, Autocomplete: auto, Required: req, Value: form[id], Error: errs[id]}
	}
	lang := f("language", "Preferred language", "select", "The language of the consent form and messages.", "off", true)
	lang.Options = []fieldOption{{"en", "English"}, {"es", "Spanish (Español)"}}
	patient = []formField{
		f("full_name", "Full name", "text", "", "off", true),
		f("preferred_name", "Preferred name", "text", "What the patient likes to be called.", "off", false),
		f("dob", "Date of birth", "text", "Year-month-day, for example 1984-07-21. Used to verify the patient before they sign.", "off", false),
		f("email", "Email", "email", "", "off", false),
		f("phone", "Phone", "tel", "Digits and spaces, with + and the country code if outside the US.", "off", false),
		lang,
	}
	if mrn {
		patient = append(patient, f("mrn", "Medical record number", "text", "Only if a story needs it.", "off", false))
	}
	rep = []formField{
		f("rep_name", "Representative's name", "text", "", "off", false),
		f("rep_relationship", "Relationship to the patient", "text", "For example parent, guardian, spouse.", "off", false),
		f("rep_authority", "Authority to act for the patient", "textarea", "For example: parent of a minor; healthcare power of attorney dated 2024-05-01.", "off", false),
	}
	return patient, rep
}

func (s *Server) renderPatientForm(c echo.Context, status int, id string, form, errs map[string]string) error {
	mrn, err := s.patients.Settings.MRNEnabled(c.Request().Context())
	if err != nil {
		return err
	}
	title, action := "Add a patient", "/patients"
	if id != "" {
		title, action = "Edit patient", "/patients/"+id
	}
	pf, rf := patientFields(form, errs, mrn)
	return s.render(c, status, "patient_form", Page{Title: title, Form: form, Errors: errs, Data: map[string]any{
		"Action": action, "PatientFields": pf, "RepFields": rf, "ID": id,
	}})
}

func (s *Server) patientNew(c echo.Context) error {
	return s.renderPatientForm(c, http.StatusOK, "", map[string]string{"language": "en"}, nil)
}

func (s *Server) patientCreate(c echo.Context) error {
	form := patientForm(c)
	p, err := s.patients.Create(c.Request().Context(), currentUser(c).ID, inputFrom(form))
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.renderPatientForm(c, http.StatusUnprocessableEntity, "", form, fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, p.FullName+" was added.")
	return s.redirect(c, "/patients/"+p.ID)
}

// patientEdit opens the patient's details to fill the form: a view, audited.
func (s *Server) patientEdit(c echo.Context) error {
	d, err := s.patients.View(c.Request().Context(), c.Param("id"), "edit")
	if err != nil {
		return err
	}
	return s.renderPatientForm(c, http.StatusOK, d.ID, formFrom(d.Input()), nil)
}

func (s *Server) patientUpdate(c echo.Context) error {
	id := c.Param("id")
	p, err := s.patients.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	form := patientForm(c)
	sub := subject(c)
	err = s.patients.Update(c.Request().Context(), id, inputFrom(form), func(ent patients.Entitled) bool {
		return s.authz.AllowedOn(sub, authz.PatientsContact, ent)
	})
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.renderPatientForm(c, http.StatusUnprocessableEntity, id, form, fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Changes to "+p.FullName+" were saved.")
	return s.redirect(c, "/patients/"+id)
}
