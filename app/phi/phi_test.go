package phi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// hit is an expected finding: its kind and exact matched text.
type hit struct {
	kind Kind
	text string
}

func h(k Kind, text string) hit { return hit{k, text} }

// corpus is a set of sentences in the style of real patient stories. Cases
// without hits must produce no finding at all.
var corpus = []struct {
	text string
	want []hit
}{
	// Names.
	{"Maria Lopez was admitted after a fall at home.", []hit{h(KindName, "Maria Lopez")}},
	{"Our surgeon, Dr. Alan Grant, explained every step.", []hit{h(KindName, "Alan Grant")}},
	{"Mr. Smith brought flowers every Sunday.", []hit{h(KindName, "Smith")}},
	{"She held hands with her grandson Tomás Herrera-Vega the whole time.", []hit{h(KindName, "Tomás Herrera-Vega")}},
	{"Aunt Rosa drove in from the coast to help.", []hit{h(KindName, "Rosa")}},
	{"Nurse Practitioner Keisha Brown stayed late to talk with us.", []hit{h(KindName, "Keisha Brown")}},
	{"We met Michael J. Fox at the fundraiser.", []hit{h(KindName, "Michael J. Fox")}},
	{"Ana María de la Cruz sang to the babies in the nursery.", []hit{h(KindName, "Ana María de la Cruz")}},
	{"June Carter brought her guitar to the ward.", []hit{h(KindName, "June Carter")}},
	{"Chief Medical Officer Jane Doe welcomed the families.", []hit{h(KindName, "Jane Doe")}},
	{"The Emergency Department at Mercy Hospital was calm that night.", nil},
	{"Last Tuesday, the nurses threw him a party.", nil},
	{"We flew to St. Jude Children's Research Hospital in Memphis.", nil},
	{"The Pediatric Intensive Care Unit became our second home.", nil},
	{"Thanks to the Child Life team, Ellie smiled again.", nil},
	{"He was diagnosed with Cystic Fibrosis as a toddler.", nil},
	{"They moved from New York to North Carolina for treatment.", nil},
	{"In June the garden was full of roses.", nil},
	{"On Christmas Eve the whole floor sang carols.", nil},
	{"After surgery, I felt stronger every day.", nil},
	{"Mayo Clinic sent a second opinion within a week.", nil},
	{"My husband, Carlos, held my hand the whole night.", []hit{h(KindName, "Carlos")}},
	{"A little boy named Leo taught the whole unit about courage.", []hit{h(KindName, "Leo")}},
	{"Thankfully Grace Hopper Smith was on call.", []hit{h(KindName, "Grace Hopper Smith")}},
	{"The U.S. News ranking placed the hospital first.", nil},
	{"May God bless the nurses on the fifth floor.", nil},
	{"La doctora Ana Martínez nos explicó todo con paciencia.", []hit{h(KindName, "Ana Martínez")}},

	// Dates.
	{"She was admitted on March 3, 2021, after a bad fall.", []hit{h(KindDate, "March 3, 2021")}},
	{"His surgery was scheduled for 3 March 2021.", []hit{h(KindDate, "3 March 2021")}},
	{"The discharge papers said 03/14/2021.", []hit{h(KindDate, "03/14/2021")}},
	{"Her first scan was on 2021-03-14 at noon.", []hit{h(KindDate, "2021-03-14")}},
	{"We celebrated on March 3rd with cake.", []hit{h(KindDate, "March 3rd")}},
	{"By Mar. 3 he was walking the halls.", []hit{h(KindDate, "Mar. 3")}},
	{"The letter was dated 14.03.2021.", []hit{h(KindDate, "14.03.2021")}},
	{"Everything changed in March 2021.", []hit{h(KindDate, "March 2021")}},
	{"She rang the bell on the 5th of June, 2022.", []hit{h(KindDate, "5th of June, 2022")}},
	{"Nació el 3 de marzo de 2020 en Sevilla.", []hit{h(KindDate, "3 de marzo de 2020")}},
	{"Desde marzo de 2020 vivimos en el hospital.", []hit{h(KindDate, "marzo de 2020")}},
	{"He was born on 6/2 and weighed two pounds.", []hit{h(KindDate, "6/2")}},
	{"Add 3/4 cup of patience to every day.", nil},
	{"She returned to running in 2019.", nil},
	{"Since 2019 he has volunteered on Tuesdays.", nil},
	{"The hospital opened its new wing in 1998 and expanded in 2015.", nil},

	// Ages.
	{"At 92 years old, she still knits hats for the NICU.", []hit{h(KindAge, "92 years old")}},
	{"He was admitted at age 95 with pneumonia.", []hit{h(KindAge, "age 95")}},
	{"Aged 101, Grandpa Joe outlived all his doctors.", []hit{h(KindAge, "Aged 101"), h(KindName, "Joe")}},
	{"A 90-year-old veteran joined the choir.", []hit{h(KindAge, "90-year-old")}},
	{"We threw her a party for her 100th birthday.", []hit{h(KindAge, "100th birthday")}},
	{"She turned 90 the week she went home.", []hit{h(KindAge, "turned 90")}},
	{"Mi abuela tiene 94 años y camina cada día.", []hit{h(KindAge, "94 años")}},
	{"He is 45 years old and a father of three.", nil},
	{"Her blood pressure was 120/80 and her oxygen 92%.", nil},
	{"At 89 years old she beat the odds.", nil},
	{"The 45-year-old teacher came back to class.", nil},

	// Phones and faxes.
	{"Call the family line at (555) 123-4567 anytime.", []hit{h(KindPhone, "(555) 123-4567")}},
	{"Her cell is 555-123-4567.", []hit{h(KindPhone, "555-123-4567")}},
	{"Reach the unit at 555.123.4567 or +1 555 123 4567.", []hit{h(KindPhone, "555.123.4567"), h(KindPhone, "+1 555 123 4567")}},
	{"Her sister in London answers at +44 20 7946 0958.", []hit{h(KindPhone, "+44 20 7946 0958")}},
	{"Phone: 555-222-3333, Fax: 555-222-4444.", []hit{h(KindPhone, "555-222-3333"), h(KindFax, "555-222-4444")}},
	{"Please fax the forms to (555) 987-6543 before Friday.", []hit{h(KindFax, "(555) 987-6543")}},
	{"Fax number: +1 (555) 123-4567, attention billing.", []hit{h(KindFax, "+1 (555) 123-4567")}},
	{"We raised 12,500 dollars for 300 families.", nil},

	// Email, web, IP.
	{"Write to maria.lopez@example.org to say thanks.", []hit{h(KindEmail, "maria.lopez@example.org")}},
	{"Read more at https://example.org/stories/ellie?id=42.", []hit{h(KindURL, "https://example.org/stories/ellie?id=42")}},
	{"Her blog, www.ellieslight.com, has thousands of readers.", []hit{h(KindURL, "www.ellieslight.com")}},
	{"Donations go through example.org/give (thank you!).", []hit{h(KindURL, "example.org/give")}},
	{"The portal logged a login from 192.168.10.24 that night.", []hit{h(KindIP, "192.168.10.24")}},
	{"The device reported 2001:db8::ff00:42:8329 as its address.", []hit{h(KindIP, "2001:db8::ff00:42:8329")}},
	{"Visiting hours end at 8:30 p.m. sharp.", nil},
	{"Version 2.3.1 of the app fixed the bug, e.g. the login loop.", nil},

	// SSN and record numbers.
	{"Her SSN 123-45-6789 was on the form.", []hit{h(KindSSN, "123-45-6789")}},
	{"The clerk asked for his SSN 123456789 twice.", []hit{h(KindSSN, "123456789")}},
	{"Bring the card with MRN 12345678 to the desk.", []hit{h(KindRecordNumber, "12345678")}},
	{"The medical record number: A1234567 was wrong on the bracelet.", []hit{h(KindRecordNumber, "A1234567")}},
	{"The bill for account #998877 was forgiven.", []hit{h(KindRecordNumber, "998877")}},
	{"Insurance finally approved policy no. XJ-2234.", []hit{h(KindRecordNumber, "XJ-2234")}},
	{"Her member ID ABC123456 was printed on the card.", []hit{h(KindRecordNumber, "ABC123456")}},
	{"The birth certificate number 2021-0004417 had a typo.", []hit{h(KindRecordNumber, "2021-0004417")}},
	{"His Social Security number is 123 45 6789, she read aloud.", []hit{h(KindSSN, "123 45 6789")}},
	{"Our non-member ID 88-12345 still worked.", []hit{h(KindRecordNumber, "88-12345")}},
	{"In case no one told you, you are amazing.", nil},
	{"Our support group meets every week.", nil},

	// Addresses and ZIP codes.
	{"They live at 123 Main Street with two dogs.", []hit{h(KindAddress, "123 Main Street")}},
	{"Send cards to 45 W. Oak Ave, Springfield, IL 62704.", []hit{h(KindAddress, "45 W. Oak Ave"), h(KindZIP, "62704")}},
	{"The tour ended at 1600 Pennsylvania Avenue NW in the rain.", []hit{h(KindAddress, "1600 Pennsylvania Avenue NW")}},
	{"Letters can go to PO Box 123, Boston, MA 02115-4321.", []hit{h(KindAddress, "PO Box 123"), h(KindZIP, "02115-4321")}},
	{"Our ZIP code 90210 is on every form.", []hit{h(KindZIP, "90210")}},
	{"We moved to Austin, Texas 78701 for her treatment.", []hit{h(KindZIP, "78701")}},
	{"Vivimos en la Calle Mayor 12 desde hace años.", []hit{h(KindAddress, "Calle Mayor 12")}},
	{"Room 12 had a view of the garden.", nil},
	{"She walked 10000 steps a day by the end.", nil},

	// Licence, vehicle and device identifiers.
	{"The ambulance wrote down license plate 7ABC123.", []hit{h(KindLicense, "7ABC123")}},
	{"His driver's license D1234567 was in his wallet.", []hit{h(KindLicense, "D1234567")}},
	{"The car's VIN was 1HGCM82633A004352.", []hit{h(KindLicense, "1HGCM82633A004352")}},
	{"The pump's serial number SN-99812 was recalled.", []hit{h(KindLicense, "SN-99812")}},
	{"The pacemaker device ID PX-4432-B was logged.", []hit{h(KindLicense, "PX-4432-B")}},
	{"She got her learner's license last spring.", nil},
}

func TestCorpus(t *testing.T) {
	if len(corpus) < 60 {
		t.Fatalf("corpus has %d sentences, want at least 60", len(corpus))
	}
	for _, c := range corpus {
		t.Run(c.text, func(t *testing.T) {
			got := Scan(c.text, Options{})
			var gotHits []hit
			for _, f := range got {
				gotHits = append(gotHits, hit{f.Kind, f.Text})
			}
			if !slices.Equal(gotHits, c.want) {
				t.Errorf("Scan(%q)\n got %v\nwant %v", c.text, gotHits, c.want)
			}
			checkFindings(t, c.text, got)
		})
	}
}

// checkFindings asserts the invariants every result must keep: in-bounds
// offsets, Text equal to the slice, sorted, non-overlapping, explained.
func checkFindings(t *testing.T, text string, fs []Finding) {
	t.Helper()
	for i, f := range fs {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
			t.Fatalf("finding %d has bad offsets [%d,%d) for text of %d bytes", i, f.Start, f.End, len(text))
		}
		if text[f.Start:f.End] != f.Text {
			t.Errorf("finding %d: Text %q != text[%d:%d] %q", i, f.Text, f.Start, f.End, text[f.Start:f.End])
		}
		if f.Note == "" || f.Kind.Label() == "" {
			t.Errorf("finding %d (%s) has no note or label", i, f.Kind)
		}
		if i > 0 && fs[i-1].End > f.Start {
			t.Errorf("findings %d and %d overlap or are out of order: %+v, %+v", i-1, i, fs[i-1], f)
		}
	}
}

func TestPatientNames(t *testing.T) {
	text := "MARIA was brave. Maria Elena Lopez rang the bell, and Lopez's mom cried. Mariana waved."
	got := Scan(text, Options{PatientNames: []string{"Maria Lopez"}})
	checkFindings(t, text, got)
	want := []hit{h(KindPatientName, "MARIA"), h(KindPatientName, "Maria Elena Lopez"), h(KindPatientName, "Lopez")}
	if g := hits(got); !slices.Equal(g, want) {
		t.Errorf("got %v, want %v", g, want)
	}
}

func TestPatientNamePartsAndAccents(t *testing.T) {
	text := "Jose came home. Then García-López thanked everyone; Al stayed, J waved."
	got := Scan(text, Options{PatientNames: []string{"José García-López", "J. Al"}})
	checkFindings(t, text, got)
	// Parts of two letters count; the single letter "J" does not.
	want := []hit{h(KindPatientName, "Jose"), h(KindPatientName, "García-López"), h(KindPatientName, "Al")}
	if g := hits(got); !slices.Equal(g, want) {
		t.Errorf("got %v, want %v", g, want)
	}
}

func TestAllowNames(t *testing.T) {
	text := "Dr. Alan Grant and Nurse Keisha Brown cared for Maria Lopez at Mercy Hospital."
	got := Scan(text, Options{AllowNames: []string{"alan grant", "Keisha Brown"}})
	want := []hit{h(KindName, "Maria Lopez")}
	if g := hits(got); !slices.Equal(g, want) {
		t.Errorf("got %v, want %v", g, want)
	}
}

func TestPatientNameBeatsAllowName(t *testing.T) {
	got := Scan("Grant Hill loved the therapy dogs.", Options{PatientNames: []string{"Grant Hill"}, AllowNames: []string{"Grant"}})
	want := []hit{h(KindPatientName, "Grant Hill")}
	if g := hits(got); !slices.Equal(g, want) {
		t.Errorf("got %v, want %v", g, want)
	}
}

func TestOverlapResolution(t *testing.T) {
	cases := []struct {
		text string
		want []hit
	}{
		// An email is not also a URL or a name.
		{"Email Maria.Lopez@Example.org today.", []hit{h(KindEmail, "Maria.Lopez@Example.org")}},
		// An IP inside a URL is part of the URL.
		{"See http://10.0.0.7/chart for details.", []hit{h(KindURL, "http://10.0.0.7/chart")}},
		// A record number that looks like a phone number stays a record number.
		{"account number 555-123-4567 is closed", []hit{h(KindRecordNumber, "555-123-4567")}},
		// The fax keyword applies to the nearest number only.
		{"Fax 555-111-2222 or call 555-333-4444.", []hit{h(KindFax, "555-111-2222"), h(KindPhone, "555-333-4444")}},
		// The street name is not a person's name.
		{"She grew up at 12 Rose Marie Lane.", []hit{h(KindAddress, "12 Rose Marie Lane")}},
	}
	for _, c := range cases {
		got := Scan(c.text, Options{})
		checkFindings(t, c.text, got)
		if g := hits(got); !slices.Equal(g, c.want) {
			t.Errorf("Scan(%q) = %v, want %v", c.text, g, c.want)
		}
	}
}

func TestUnicodeOffsets(t *testing.T) {
	text := "José García nació el 3 de marzo de 2020; Ñandú Pérez llamó al (555) 123-4567."
	got := Scan(text, Options{PatientNames: []string{"José García"}})
	checkFindings(t, text, got)
	want := []hit{
		h(KindPatientName, "José García"),
		h(KindDate, "3 de marzo de 2020"),
		h(KindName, "Ñandú Pérez"),
		h(KindPhone, "(555) 123-4567"),
	}
	if g := hits(got); !slices.Equal(g, want) {
		t.Fatalf("got %v, want %v", g, want)
	}
	if got[0].Start != 0 || got[0].End != len("José García") {
		t.Errorf("patient name at [%d,%d), want [0,%d)", got[0].Start, got[0].End, len("José García"))
	}
	if i := strings.Index(text, "3 de marzo"); got[1].Start != i {
		t.Errorf("date starts at byte %d, want %d", got[1].Start, i)
	}
}

func TestSortedAcrossKinds(t *testing.T) {
	var b strings.Builder
	for _, c := range corpus {
		b.WriteString(c.text)
		b.WriteString(" ")
	}
	text := b.String()
	got := Scan(text, Options{PatientNames: []string{"Ellie Park"}})
	checkFindings(t, text, got)
	if !slices.IsSortedFunc(got, func(a, b Finding) int { return a.Start - b.Start }) {
		t.Error("findings are not sorted by Start")
	}
	want := 0
	for _, c := range corpus {
		want += len(c.want)
	}
	if len(got) < want {
		t.Errorf("concatenated corpus gave %d findings, want at least %d", len(got), want)
	}
}

func TestLabels(t *testing.T) {
	kinds := []Kind{KindName, KindDate, KindAge, KindPhone, KindFax, KindEmail, KindSSN, KindRecordNumber,
		KindURL, KindIP, KindAddress, KindZIP, KindLicense, KindPatientName}
	seen := map[string]bool{}
	for _, k := range kinds {
		l := k.Label()
		if l == "" || l == string(k) || seen[l] {
			t.Errorf("Kind %q has a missing or duplicate label %q", k, l)
		}
		seen[l] = true
	}
	if KindPhone.Label() != "Phone number" {
		t.Errorf("KindPhone.Label() = %q", KindPhone.Label())
	}
	if Kind("other").Label() != "other" {
		t.Error("unknown kinds should label as themselves")
	}
}

func TestEmpty(t *testing.T) {
	if got := Scan("", Options{PatientNames: []string{"", " ", "A"}}); len(got) != 0 {
		t.Errorf("Scan of empty text = %v", got)
	}
}

func hits(fs []Finding) []hit {
	var out []hit
	for _, f := range fs {
		out = append(out, hit{f.Kind, f.Text})
	}
	return out
}

func (h hit) String() string { return fmt.Sprintf("%s:%q", h.kind, h.text) }
