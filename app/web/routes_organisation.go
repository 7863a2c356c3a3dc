package web

import "github.com/storykeep/storykeep/app/authz"

func init() {
	insertNav("/admin/audit", navEntry{"/admin/organisation", "Organisation", authz.OrganisationManage})
}

// organisationRoutes: the organisation's contact details and time zone
// (issue 19 item 3).
func (s *Server) organisationRoutes() []Route {
	return []Route{
		{get, "/admin/organisation", authz.OrganisationManage, s.organisationForm},
		{post, "/admin/organisation", authz.OrganisationManage, s.organisationSave},
	}
}
