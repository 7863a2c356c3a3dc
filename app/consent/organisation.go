package consent

import (
	"context"

	"github.com/storykeep/storykeep/app/organisation"
)

// OrganisationProfile returns the organisation's contact details and time
// zone (empty when no Organisation service is set).
func (s *Service) OrganisationProfile(ctx context.Context) (organisation.Profile, error) {
	if s.Organisation == nil {
		return organisation.Profile{}, nil
	}
	return s.Organisation.Get(ctx)
}

// requireOrganisation refuses to send a consent request until the
// organisation's legal name, postal address, phone and privacy contact are
// set (issue 19 item 3): the form, the e-sign disclosure and the
// certificate give them to the patient as the ways to write, call and ask
// for paper. The error names what to fill and where.
func (s *Service) requireOrganisation(ctx context.Context) (organisation.Profile, error) {
	p, err := s.OrganisationProfile(ctx)
	if err != nil {
		return p, err
	}
	if missing := p.Missing(); len(missing) > 0 {
		return p, organisation.ErrNotSet(missing)
	}
	return p, nil
}

// withOrganisation puts the contact routes into the form's data.
func withOrganisation(d *FormData, p organisation.Profile) {
	d.OrganisationLegalName, d.OrganisationAddress, d.OrganisationPhone, d.PrivacyEmail = p.LegalName, p.AddressLine(), p.Phone, p.PrivacyEmail
}
