package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/models"
)

// Route is one line of the route table: who may call it is part of its definition.
type Route struct {
	Method  string
	Path    string
	Perm    authz.Perm
	Handler echo.HandlerFunc
}

// routes is the one route table, assembled from one section per capability.
// Every route names the permission it needs; authz.Public routes are
// reachable without signing in. TestRouteRoleMatrix walks all of it.
func (s *Server) routes() []Route {
	var all []Route
	for _, section := range [][]Route{
		s.foundationRoutes(),
		s.patientRoutes(),
		s.storyRoutes(),
		s.mediaRoutes(),
		s.templateRoutes(),
		s.consentRoutes(),
		s.consentPaperRoutes(),
		s.publicRoutes(),
		s.publishRoutes(),
		s.ssoRoutes(),
		s.inviteRoutes(),
		s.retentionRoutes(),
		s.organisationRoutes(),
	} {
		all = append(all, section...)
	}
	return all
}

const get, post = http.MethodGet, http.MethodPost

// foundationRoutes: probes, assets, sign-in, account and administration.
func (s *Server) foundationRoutes() []Route {
	return []Route{
		{get, "/healthz", authz.Public, s.healthz},
		{get, "/readyz", authz.Public, s.readyz},
		{get, "/metrics", authz.Public, s.metricsHandler},
		{get, "/static/:hash/*", authz.Public, s.staticFile},
		{get, "/favicon.ico", authz.Public, s.favicon},

		{get, "/login", authz.Public, s.loginForm},
		{post, "/login", authz.Public, s.loginSubmit},
		{get, "/login/totp", authz.Public, s.loginTOTPForm},
		{post, "/login/totp", authz.Public, s.loginTOTPSubmit},
		{post, "/logout", authz.Public, s.logout},

		{get, "/", authz.DashboardView, s.dashboard},
		{get, "/account/password", authz.AccountManage, s.passwordForm},
		{post, "/account/password", authz.AccountManage, s.passwordSubmit},
		{get, "/account/2fa", authz.AccountManage, s.totpForm},
		{post, "/account/2fa", authz.AccountManage, s.totpEnable},
		{post, "/account/2fa/disable", authz.AccountManage, s.totpDisable},

		{get, "/admin/users", authz.UsersManage, s.adminUsers},
		{get, "/admin/users/new", authz.UsersManage, s.adminUserNew},
		{post, "/admin/users", authz.UsersManage, s.adminUserCreate},
		{post, "/admin/users/:id/role", authz.UsersManage, s.adminUserRole},
		{post, "/admin/users/:id/disable", authz.UsersManage, s.adminUserDisable},
		{post, "/admin/users/:id/enable", authz.UsersManage, s.adminUserEnable},
		{post, "/admin/users/:id/reset-2fa", authz.UsersManage, s.adminUserResetTOTP},
		{get, "/admin/audit", authz.AuditRead, s.adminAudit},
		{get, "/admin/jobs", authz.JobsManage, s.adminJobs},
		{post, "/admin/jobs/:id/retry", authz.JobsManage, s.adminJobRetry},
	}
}

// RouteTable returns the route table without handlers, for tests and docs.
func (s *Server) RouteTable() []Route {
	rs := s.routes()
	for i := range rs {
		rs[i].Handler = nil
	}
	return rs
}

// Allowed reports whether role may use perm (for tests walking the route table).
func (s *Server) Allowed(role string, p authz.Perm) bool {
	return s.authz.Allowed(authz.Subject{UserID: "x", Role: role}, p)
}

// navEntry is a main-navigation link shown to roles holding perm.
type navEntry struct {
	href, label string
	perm        authz.Perm
}

// navEntries is the main navigation in display order. Capabilities insert
// their screens before "Users".
var navEntries = []navEntry{
	{"/", "Dashboard", authz.DashboardView},
	// patients, interviews, stories: see routes_patients.go / routes_stories.go
	{"/admin/users", "Users", authz.UsersManage},
	{"/admin/audit", "Audit log", authz.AuditRead},
	{"/admin/jobs", "Jobs", authz.JobsManage},
	{"/account/password", "Account", authz.AccountManage},
}

func insertNav(before string, items ...navEntry) {
	for i, e := range navEntries {
		if e.href == before {
			navEntries = append(navEntries[:i], append(items, navEntries[i:]...)...)
			return
		}
	}
	navEntries = append(navEntries, items...)
}

// nav lists the screens the user's role may open.
func (s *Server) nav(c echo.Context, u *models.User) []NavItem {
	var out []NavItem
	for _, it := range navEntries {
		if s.authz.Allowed(authz.Subject{UserID: u.ID, Role: u.Role}, it.perm) {
			out = append(out, NavItem{Href: it.href, Label: it.label, Current: c.Path() == it.href})
		}
	}
	return out
}
