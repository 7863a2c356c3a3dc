package web

import "github.com/storykeep/storykeep/app/authz"

// retentionRoutes: retention report, legal holds and purge (admin, issue 24).
func (s *Server) retentionRoutes() []Route {
	return []Route{
		{get, "/admin/retention", authz.RetentionManage, s.adminRetention},
		{post, "/admin/retention/holds", authz.RetentionManage, s.adminHoldSet},
		{post, "/admin/retention/holds/:id/lift", authz.RetentionManage, s.adminHoldLift},
		{post, "/admin/retention/purge", authz.RetentionManage, s.adminRetentionPurge},
	}
}

func init() {
	insertNav("/admin/audit", navEntry{"/admin/retention", "Retention", authz.RetentionManage})
}
