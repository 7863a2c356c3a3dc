package patients_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	svc   *patients.Service
	keys  *crypto.Keyring
	log   *audit.Log
	user  *models.User
	ctx   context.Context
	rawDB func(q string, args ...any) []map[string]any
}

func setup(t *testing.T) fixture {
	t.Helper()
	gdb, _ := dbtest.Open(t)
	keys, err := crypto.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(gdb)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "tester", Label: "tester@hospital.test"})
	u, err := users.New(gdb, log, keys, users.Limits{PerAccount: 5, PerIP: 50}).Create(ctx, users.NewUser{
		Email: "teller@hospital.test", Name: "Teller", Role: models.RoleStoryteller, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(q string, args ...any) []map[string]any {
		var rows []map[string]any
		if err := gdb.Raw(q, args...).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return rows
	}
	return fixture{svc: patients.New(gdb, log, keys), keys: keys, log: log, user: u, ctx: ctx, rawDB: raw}
}

func valid() patients.Input {
	return patients.Input{FullName: "Ana Lucía Pérez", PreferredName: "Ana", DOB: "1984-07-21", Email: "ana.perez@example.org",
		Phone: "+1 555 010 0199", Language: "es"}
}

func TestCreateValidation(t *testing.T) {
	f := setup(t)
	cases := []struct {
		name, field, want string
		mod               func(*patients.Input)
	}{
		{"name missing", "full_name", "Enter the patient's full name.", func(in *patients.Input) { in.FullName = "  " }},
		{"dob not a date", "dob", "YYYY-MM-DD", func(in *patients.Input) { in.DOB = "21/07/1984" }},
		{"dob impossible", "dob", "YYYY-MM-DD", func(in *patients.Input) { in.DOB = "1984-02-30" }},
		{"dob in future", "dob", "cannot be in the future", func(in *patients.Input) { in.DOB = "2999-01-01" }},
		{"email", "email", "Enter an email address", func(in *patients.Input) { in.Email = "ana@" }},
		{"phone letters", "phone", "digits, spaces", func(in *patients.Input) { in.Phone = "555-CALL-ANA" }},
		{"phone plus inside", "phone", "digits, spaces", func(in *patients.Input) { in.Phone = "555+0100199" }},
		{"language", "language", "Choose English or Spanish.", func(in *patients.Input) { in.Language = "fr" }},
		{"rep without authority", "rep_authority", "Describe the representative's authority", func(in *patients.Input) {
			in.RepName, in.RepRelationship = "Maria Pérez", "mother"
		}},
		{"rep without name", "rep_name", "Enter the representative's name", func(in *patients.Input) { in.RepRelationship = "mother" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.mod(&in)
			_, err := f.svc.Create(f.ctx, f.user.ID, in)
			var fe users.FieldErrors
			if !errors.As(err, &fe) || !strings.Contains(fe[tc.field], tc.want) {
				t.Fatalf("want %s error %q, got %v", tc.field, tc.want, err)
			}
		})
	}
	if n := f.rawDB("SELECT id FROM patients"); len(n) != 0 {
		t.Fatalf("%d patients stored from bad input", len(n))
	}
}

func TestSealedAtRestAndAuditedView(t *testing.T) {
	f := setup(t)
	in := valid()
	p, err := f.svc.Create(f.ctx, f.user.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	row := f.rawDB("SELECT * FROM patients WHERE id = ?", p.ID)[0]
	dump := fmt.Sprint(row)
	for _, secret := range []string{in.DOB, in.Email, in.Phone, "1984", "ana.perez", "0199"} {
		if strings.Contains(dump, secret) {
			t.Fatalf("raw row contains %q: %s", secret, dump)
		}
	}
	for col, want := range map[string]string{"dob": in.DOB, "email": in.Email, "phone": in.Phone} {
		got, err := f.keys.Open(fmt.Sprint(row[col+"_sealed"]), "patient:"+p.ID+":"+col)
		if err != nil || got != want {
			t.Fatalf("%s opens to %q, %v", col, got, err)
		}
	}
	for i := 0; i < 2; i++ {
		d, err := f.svc.View(f.ctx, p.ID, "view")
		if err != nil || d.DOB != in.DOB || d.Email != in.Email || d.Phone != in.Phone {
			t.Fatalf("view: %+v %v", d, err)
		}
	}
	views := f.rawDB("SELECT details FROM audit_log WHERE action = 'patient.view' AND object_id = ?", p.ID)
	if len(views) != 2 {
		t.Fatalf("want 2 patient.view entries, got %d", len(views))
	}
	all := fmt.Sprint(f.rawDB("SELECT * FROM audit_log"))
	for _, phi := range []string{in.FullName, in.DOB, in.Email, in.Phone, "Pérez"} {
		if strings.Contains(all, phi) {
			t.Fatalf("audit log contains %q", phi)
		}
	}
	if _, err := f.svc.View(f.ctx, "nope", "view"); !errors.Is(err, patients.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestUpdateAuditsFieldNamesOnly(t *testing.T) {
	f := setup(t)
	p, err := f.svc.Create(f.ctx, f.user.ID, valid())
	if err != nil {
		t.Fatal(err)
	}
	in := valid()
	in.Phone, in.Language = "+34 600 000 111", "en"
	if err := f.svc.Update(f.ctx, p.ID, in, anyone); err != nil {
		t.Fatal(err)
	}
	rows := f.rawDB("SELECT details FROM audit_log WHERE action = 'patient.update'")
	if len(rows) != 1 || fmt.Sprint(rows[0]["details"]) != `{"fields":["phone","language"]}` {
		t.Fatalf("update audit: %v", rows)
	}
	if err := f.svc.Update(f.ctx, p.ID, in, anyone); err != nil { // unchanged: no entry
		t.Fatal(err)
	}
	if n := len(f.rawDB("SELECT seq FROM audit_log WHERE action = 'patient.update'")); n != 1 {
		t.Fatalf("no-op update audited: %d", n)
	}
	d, _ := f.svc.View(f.ctx, p.ID, "view")
	if d.Phone != in.Phone || d.PreferredLanguage != "en" || d.DOB != in.DOB {
		t.Fatalf("after update: %+v", d)
	}
}

func TestMRNOnlyWhenEnabled(t *testing.T) {
	f := setup(t)
	in := valid()
	in.MRN = "MRN-12345"
	p, err := f.svc.Create(f.ctx, f.user.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.View(f.ctx, p.ID, "view"); d.MRN != "" {
		t.Fatal("MRN stored while the setting is off")
	}
	if err := f.svc.Settings.SetMRNEnabled(f.ctx, f.user.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Update(f.ctx, p.ID, in, anyone); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(f.rawDB("SELECT mrn_sealed FROM patients")), "12345") {
		t.Fatal("MRN not sealed")
	}
	if d, _ := f.svc.View(f.ctx, p.ID, "view"); d.MRN != "MRN-12345" {
		t.Fatalf("MRN = %q", d.MRN)
	}
	in.MRN = "12 34"
	var fe users.FieldErrors
	if err := f.svc.Update(f.ctx, p.ID, in, anyone); !errors.As(err, &fe) || fe["mrn"] == "" {
		t.Fatalf("bad MRN accepted: %v", err)
	}
}

func TestListKeysetPagination(t *testing.T) {
	f := setup(t)
	names := []string{"bob Stone", "Alice Moss", "alice Abbot", "Carla Diaz", "Bea Arden", "Ab Smith"}
	for _, n := range names {
		in := valid()
		in.FullName = n
		if _, err := f.svc.Create(f.ctx, f.user.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for page := 0; page < 5; page++ {
		rows, next, err := f.svc.List(f.ctx, patients.ListQuery{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got = append(got, r.FullName)
		}
		if next == "" {
			break
		}
		after = next
	}
	want := "Ab Smith,alice Abbot,Alice Moss,Bea Arden,bob Stone,Carla Diaz"
	if strings.Join(got, ",") != want {
		t.Fatalf("pages: %v", got)
	}
	rows, _, err := f.svc.List(f.ctx, patients.ListQuery{Prefix: "ALI"})
	if err != nil || len(rows) != 2 {
		t.Fatalf("prefix search: %v %v", rows, err)
	}
	if rows, _, _ := f.svc.List(f.ctx, patients.ListQuery{Prefix: "%"}); len(rows) != 0 {
		t.Fatal("LIKE wildcards must be literal")
	}
	if _, _, err := f.svc.List(f.ctx, patients.ListQuery{After: "!!"}); !errors.Is(err, patients.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestNameSearch: a search finds a prefix at the start of any word of the
// name, through the name index: in name order, each patient once, page by
// page, for searches shorter and longer than the index's prefixes; a
// renamed patient is found by the new name only.
func TestNameSearch(t *testing.T) {
	f := setup(t)
	ids := map[string]string{}
	for _, n := range []string{"Maria Lopez", "Maria Lopes Ortega", "Lopa Singh", "Ana Lopez Lopes", "Carlos Alop", "Zed O'Lopez", "Bo Li", "Mary Lo", "Ab 100% Sure", "José Núñez", "Eve Vanderbiltmontgomery"} {
		in := valid()
		in.FullName = n
		p, err := f.svc.Create(f.ctx, f.user.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = p.ID
	}
	search := func(prefix string, limit int) string {
		t.Helper()
		var got []string
		after := ""
		for page := 0; page < 10; page++ {
			rows, next, err := f.svc.List(f.ctx, patients.ListQuery{Prefix: prefix, After: after, Limit: limit})
			if err != nil {
				t.Fatalf("%q: %v", prefix, err)
			}
			for _, r := range rows {
				got = append(got, r.FullName)
			}
			if next == "" {
				break
			}
			after = next
		}
		return strings.Join(got, ", ")
	}
	for _, c := range []struct{ prefix, want string }{
		{"lop", "Ana Lopez Lopes, Lopa Singh, Maria Lopes Ortega, Maria Lopez"},
		{" LOP ", "Ana Lopez Lopes, Lopa Singh, Maria Lopes Ortega, Maria Lopez"},
		{"lopez", "Ana Lopez Lopes, Maria Lopez"},
		{"maria lo", "Maria Lopes Ortega, Maria Lopez"},
		{"maria  lo", ""},
		{"lo", "Ana Lopez Lopes, Lopa Singh, Maria Lopes Ortega, Maria Lopez, Mary Lo"},
		{"l", "Ana Lopez Lopes, Bo Li, Lopa Singh, Maria Lopes Ortega, Maria Lopez, Mary Lo"},
		{"m", "Maria Lopes Ortega, Maria Lopez, Mary Lo"},
		{"m lo", ""},
		{"o'lo", "Zed O'Lopez"},
		{"NÚ", "José Núñez"},
		{"vanderbi", "Eve Vanderbiltmontgomery"},
		{"vanderbiltm", "Eve Vanderbiltmontgomery"},
		{"vanderbiltx", ""},
		{"eve vanderbiltm", "Eve Vanderbiltmontgomery"},
		{"vanderbiltmontgomery eve", ""},
		{"100%", "Ab 100% Sure"},
		{"10%", ""},
		{"%", ""},
		{"_o", ""},
		{"zz", ""},
	} {
		for _, limit := range []int{2, 50} {
			if got := search(c.prefix, limit); got != c.want {
				t.Errorf("search %q, %d a page: %q, want %q", c.prefix, limit, got, c.want)
			}
		}
	}
	// The index holds each beginning of a word once, with the name key.
	words := func(id string) string {
		var ws []string
		for _, r := range f.rawDB(`SELECT prefix, name_key FROM patient_name_prefixes WHERE patient_id = ? ORDER BY prefix`, id) {
			ws = append(ws, fmt.Sprint(r["prefix"], "/", r["name_key"]))
		}
		return strings.Join(ws, " ")
	}
	if got, want := words(ids["Ana Lopez Lopes"]), "a an ana l lo lop lope lopes lopez"; got != strings.ReplaceAll(want, " ", "/ana lopez lopes ")+"/ana lopez lopes" {
		t.Fatalf("index rows of Ana Lopez Lopes: %s", got)
	}
	in := valid()
	in.FullName = "Priya Singh"
	if err := f.svc.Update(f.ctx, ids["Lopa Singh"], in, anyone); err != nil {
		t.Fatal(err)
	}
	if got := search("lop", 50); got != "Ana Lopez Lopes, Maria Lopes Ortega, Maria Lopez" {
		t.Fatalf("after renaming Lopa Singh: %q", got)
	}
	if got := search("pri", 50); got != "Priya Singh" {
		t.Fatalf("the new name: %q", got)
	}
	if got := words(ids["Lopa Singh"]); got != strings.ReplaceAll("p pr pri priy priya s si sin sing singh", " ", "/priya singh ")+"/priya singh" {
		t.Fatalf("words after the rename: %s", got)
	}
}

// anyone lets every editor change contact details (the policy is the web
// layer's; see TestF10... in app/web).
func anyone(patients.Entitled) bool { return true }

// TestCreateManyAsCreate: the batch path (imports, the demo) stores each
// patient as Create does — sealed fields that open with the key, the name
// search index, one "patient.create" audit entry each in an unbroken chain
// — and a bad input refuses the whole batch, naming its position.
func TestCreateManyAsCreate(t *testing.T) {
	f := setup(t)
	second := valid()
	second.FullName, second.PreferredName = "Bruno Okafor", "Bruno"
	ps, err := f.svc.CreateMany(f.ctx, f.user.ID, []patients.Input{valid(), second})
	if err != nil || len(ps) != 2 {
		t.Fatalf("%d patients, %v", len(ps), err)
	}
	d, err := f.svc.View(f.ctx, ps[1].ID, "test")
	if err != nil || d.DOB != second.DOB || d.Email != second.Email || d.FullName != "Bruno Okafor" {
		t.Fatalf("view of a batch patient: %+v %v", d, err)
	}
	if dump := fmt.Sprint(f.rawDB("SELECT * FROM patients")); strings.Contains(dump, "1984") || strings.Contains(dump, "example.org") {
		t.Fatalf("a batch patient's details are stored in clear: %s", dump)
	}
	found, _, err := f.svc.List(f.ctx, patients.ListQuery{Prefix: "oka"})
	if err != nil || len(found) != 1 || found[0].ID != ps[1].ID {
		t.Fatalf("name search for a batch patient: %v %v", found, err)
	}
	if n := f.rawDB("SELECT seq FROM audit_log WHERE action = 'patient.create'"); len(n) != 2 {
		t.Fatalf("%d patient.create entries", len(n))
	}
	if rep, err := f.log.Verify(f.ctx); err != nil || rep.Broken != nil {
		t.Fatalf("audit chain: %+v %v", rep.Broken, err)
	}
	bad := valid()
	bad.DOB = "2999-01-01"
	_, err = f.svc.CreateMany(f.ctx, f.user.ID, []patients.Input{valid(), bad})
	var fe users.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe["2: dob"], "future") {
		t.Fatalf("a bad second input: %v", err)
	}
	if n := f.rawDB("SELECT id FROM patients"); len(n) != 2 {
		t.Fatalf("%d patients after a refused batch", len(n))
	}
}
