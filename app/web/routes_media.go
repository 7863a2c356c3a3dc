package web

import (
	"net/http"

	"github.com/storykeep/storykeep/app/authz"
)

// mediaRoutes: uploading, describing, serving and deleting photos, video
// and recordings of stories and interviews (issue 4). Each handler also
// checks the owner: editing a story's media needs edit rights on the story.
func (s *Server) mediaRoutes() []Route {
	return []Route{
		{get, "/stories/:id/media", authz.MediaView, s.mediaPage(ownerStory)},
		{post, "/stories/:id/media", authz.MediaUpload, s.mediaUpload(ownerStory)},
		{get, "/interviews/:id/media", authz.MediaView, s.mediaPage(ownerInterview)},
		{post, "/interviews/:id/media", authz.MediaUpload, s.mediaUpload(ownerInterview)},
		{post, "/media/:id/describe", authz.MediaUpload, s.mediaDescribe},
		{post, "/media/:id/delete", authz.MediaUpload, s.mediaDelete},
		{get, "/media/:id/file", authz.MediaView, s.mediaFile},
		{get, "/media/:id/r/:name", authz.MediaView, s.mediaRendition},
		{post, "/stories/:id/uploads", authz.MediaUpload, s.uploadStart(ownerStory)},
		{post, "/interviews/:id/uploads", authz.MediaUpload, s.uploadStart(ownerInterview)},
		{get, "/uploads/:id", authz.MediaUpload, s.uploadStatus},
		{http.MethodPut, "/uploads/:id", authz.MediaUpload, s.uploadChunk},
		{post, "/uploads/:id/complete", authz.MediaUpload, s.uploadComplete},
	}
}

// uploadRoutes stream their body: the CSRF token comes from a header or the
// query string, never from parsing the (possibly huge) multipart form, and
// the 2 MB body limit does not apply (the media pipeline enforces per-type
// limits while streaming).
var uploadRoutes = map[string]bool{"/stories/:id/media": true, "/interviews/:id/media": true, "/uploads/:id": true}
