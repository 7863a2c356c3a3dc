package web

import "github.com/storykeep/storykeep/app/authz"

// Publishing permissions, granted in migration 00058: publishers post,
// schedule, retry, take down and download bundles; admins and publishers
// see publication panels and clicks; admins set up channel accounts.
var (
	publishManage  = authz.Perm{Obj: "publish", Act: "manage"}
	publishView    = authz.Perm{Obj: "publish", Act: "view"}
	channelsManage = authz.Perm{Obj: "channels", Act: "manage"}
)

func init() {
	insertNav("/admin/users", navEntry{"/publishing", "Publishing", publishView})
	insertNav("/admin/audit", navEntry{"/admin/channels", "Channels", channelsManage})
	// Short links and shared media are opened by the public: no session,
	// no cookie, nothing that could identify who clicked.
	stateless["/s/:code"] = true
	stateless["/m/:token"] = true
}

// publishRoutes: social export (issue 6) — the publishing panel and
// publication panel of a story, export bundles, channel accounts, the
// click dashboard, and the public short links and media links.
func (s *Server) publishRoutes() []Route {
	return []Route{
		{get, "/stories/:id/publish", publishView, s.publishPanel},
		{post, "/stories/:id/publish", publishManage, s.publishSubmit},
		{post, "/stories/:id/takedown", publishManage, s.publishTakedown},
		{get, "/stories/:id/export.zip", publishManage, s.publishBundle},
		{post, "/deliveries/:id/retry", publishManage, s.publishRetry},
		{post, "/deliveries/:id/removed", publishManage, s.publishRemovedByHand},
		{get, "/publishing", publishView, s.publishDashboard},
		{get, "/admin/channels", channelsManage, s.channelAccounts},
		{post, "/admin/channels/:id", channelsManage, s.channelAccountSave},
		{get, "/s/:code", authz.Public, s.shortlinkFollow},
		{get, "/m/:token", authz.Public, s.shortlinkMedia},
	}
}
