package stories

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var (
	demoConditions = []string{"heart surgery", "a hip replacement", "a kidney transplant", "breast cancer", "a stroke", "premature birth", "a spinal injury", "long COVID", "type 1 diabetes", "a brain tumour"}
	demoMoments    = []string{"ran a marathon", "walked her daughter down the aisle", "went back to teaching", "climbed a mountain", "held his grandson", "returned to the orchestra", "opened a bakery", "finished college"}
	demoTags       = []string{"cardiology", "oncology", "orthopaedics", "transplant", "neurology", "maternity", "rehabilitation", "paediatrics", "nursing", "volunteers"}
	demoFirst      = []string{"Maria", "James", "Aiko", "Fatima", "Liam", "Sofia", "Noah", "Amara", "Olivia", "Mateo", "Chen", "Priya", "Ethan", "Zara", "Lucas", "Hana", "Omar", "Grace", "Ivan", "Leila",
		"Daniel", "Mei", "Samuel", "Nadia", "Tomas", "Ana", "Kwame", "Elena", "Ravi", "Chloe", "Yusuf", "Ingrid", "Diego", "Aisha", "Felix", "Rosa", "Kenji", "Clara", "Tariq", "Eva"}
	demoFamily = []string{"Lopez", "Okafor", "Tanaka", "Haddad", "Murphy", "Rossi", "Schmidt", "Diallo", "Smith", "Garcia", "Nguyen", "Kowalski", "Patel", "Johansson", "Silva", "Kim", "Mensah", "Dubois", "Novak", "Ali",
		"Brown", "Costa", "Ivanova", "Fischer", "Mwangi", "O'Brien", "Yilmaz", "Hernandez", "Larsen", "Sato", "Cohen", "Petrov", "Baker", "Moreau", "Osei", "Santos", "Walsh", "Khan", "Weber", "Reyes"}
	demoChannels = [][]string{{"website"}, {"website", "facebook", "instagram"}, {"website", "x", "bluesky", "mastodon"}, {"website", "linkedin", "youtube"}}
)

// DemoPatientName is the i'th demo patient's name: 1,600 first and family
// name pairs, so a demo of many patients has namesakes, as a hospital does.
func DemoPatientName(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	return demoFirst[r.IntN(len(demoFirst))] + " " + demoFamily[r.IntN(len(demoFamily))]
}

// DemoPatient picks which of n demo patients story i is about: uniformly,
// so each has about the same few stories.
func DemoPatient(i, n int) int {
	return rand.New(rand.NewPCG(uint64(i), 9)).IntN(n)
}

// DemoInput returns a realistic story about a patient (for `storykeep demo`
// and benchmarks); the same i always gives the same story, and run keeps
// slugs of separate runs apart.
func DemoInput(run string, i int, ownerID, patientID, patientName string) Input {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	cond, moment := demoConditions[r.IntN(len(demoConditions))], demoMoments[r.IntN(len(demoMoments))]
	first := strings.Fields(patientName)[0]
	title := fmt.Sprintf("After %s, %s %s", cond, first, moment)
	var body strings.Builder
	fmt.Fprintf(&body, "## The diagnosis\n\nWhen %s learned about %s, the first weeks were the hardest. ", first, cond)
	for p := 0; p < 4+r.IntN(6); p++ {
		fmt.Fprintf(&body, "The care team met every week to plan the next step, and %s kept a diary of small wins. ", first)
		body.WriteString("Physiotherapy started early; nurses on the ward made the long nights easier.\n\n")
	}
	fmt.Fprintf(&body, "## Today\n\nA year later, %s %s. \"I want other families to know there is a way back,\" %s says.\n", first, moment, first)
	chans := demoChannels[r.IntN(len(demoChannels))]
	cp := map[string]string{}
	for _, c := range chans {
		if c != "website" {
			cp[c] = fmt.Sprintf("After %s, %s %s. Read the story: https://hospital.example/stories/%d", cond, first, moment, i)
		}
	}
	return Input{Title: title, Slug: fmt.Sprintf("%s-%s%d", Slugify(title), run, i), Summary: fmt.Sprintf("%s's recovery from %s.", first, cond), Body: body.String(),
		Tags: demoTags[r.IntN(len(demoTags))] + ", " + demoTags[r.IntN(len(demoTags))], Channels: chans, Copy: cp, OwnerID: ownerID, PatientID: patientID}
}
