package web

import "github.com/storykeep/storykeep/app/authz"

// publicPagePrefix marks the public website's pages: they use the
// "public-base" layout (views/layouts/public.html), without staff chrome.
const publicPagePrefix = "public_"

const publicImagePath = "/p/:slug/img/:asset/:name"

// publicRoutes: the public website (issue 6). Anyone may read it; what it
// shows is decided per request by the consent gate (app/website). With a
// CDN configured, cdnPublic lets it keep responses for a bounded time.
func (s *Server) publicRoutes() []Route {
	return []Route{
		{get, "/p", authz.Public, s.cdnPublic(cdnList, s.publicIndex)},
		{get, "/p/tag/:tag", authz.Public, s.cdnPublic(cdnList, s.publicIndex)},
		{get, "/p/:slug", authz.Public, s.cdnPublic(cdnStory, s.publicStory)},
		{get, publicImagePath, authz.Public, s.cdnPublic(cdnStory, s.publicImage)},
		{get, "/feed.atom", authz.Public, s.cdnPublic(cdnList, s.publicAtom)},
		{get, "/feed.json", authz.Public, s.cdnPublic(cdnList, s.publicJSONFeed)},
		{get, "/sitemap.xml", authz.Public, s.cdnPublic(cdnList, s.publicSitemap)},
	}
}

// The public website keeps no session and sets no cookie: visitors are not
// tracked, and responses stay cacheable by shared caches where allowed.
func init() {
	for _, rt := range (&Server{}).publicRoutes() {
		stateless[rt.Path] = true
	}
}
