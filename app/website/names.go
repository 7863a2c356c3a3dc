package website

import "github.com/storykeep/storykeep/app/disclosure"

// publicSlug drops the patient's name from a staff slug (possessives and
// plurals too), so a public address never names the patient whatever the
// consent says.
func publicSlug(slug, fullName, preferred string) string {
	return disclosure.PublicSlug(slug, fullName, preferred)
}
