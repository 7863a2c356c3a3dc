package web

import "github.com/storykeep/storykeep/app/authz"

// templateRoutes: consent form templates (admin).
func (s *Server) templateRoutes() []Route {
	return []Route{
		{get, "/admin/consent-templates", authz.TemplatesManage, s.templateList},
		{get, "/admin/consent-templates/:id", authz.TemplatesManage, s.templateEdit},
		{post, "/admin/consent-templates/:id", authz.TemplatesManage, s.templateSave},
		{post, "/admin/consent-templates/:id/version", authz.TemplatesManage, s.templateNewVersion},
		{post, "/admin/consent-templates/:id/activate", authz.TemplatesManage, s.templateActivate},
	}
}

func init() {
	insertNav("/admin/audit", navEntry{"/admin/consent-templates", "Consent forms", authz.TemplatesManage})
}
