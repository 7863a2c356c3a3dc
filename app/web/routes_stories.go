package web

import "github.com/storykeep/storykeep/app/authz"

func init() {
	insertNav("/admin/users", navEntry{"/stories", "Stories", authz.StoriesView})
}

// storyRoutes: stories, revisions, workflow, search (issue 3). Editing routes
// need StoriesEditOwn; the handler then checks the story itself with
// AllowedOn(StoriesEdit), so storytellers edit only their own stories.
func (s *Server) storyRoutes() []Route {
	return []Route{
		{get, "/stories", authz.StoriesView, s.storyList},
		{get, "/stories/new", authz.StoriesCreate, s.storyNew},
		{get, "/stories/choose-patient", authz.PatientsList, s.storyChoosePatient},
		{post, "/stories", authz.StoriesCreate, s.storyCreate},
		{get, "/stories/:id", authz.StoriesView, s.storyShow},
		{get, "/stories/:id/edit", authz.StoriesEditOwn, s.storyEdit},
		{post, "/stories/:id", authz.StoriesEditOwn, s.storyUpdate},
		{post, "/stories/:id/draft", authz.StoriesEditOwn, s.storyDraftSave},
		{post, "/stories/:id/draft/discard", authz.StoriesEditOwn, s.storyDraftDiscard},
		{get, "/stories/:id/history", authz.StoriesView, s.storyHistory},
		{get, "/stories/:id/diff", authz.StoriesView, s.storyDiff},
		{post, "/stories/:id/restore", authz.StoriesEditOwn, s.storyRestore},
		{post, "/stories/:id/transition", authz.StoriesTransition, s.storyTransition},
		{get, "/stories/:id/review", authz.StoriesReview, s.storyReview},
		{post, "/stories/:id/approve", authz.StoriesReview, s.storyApprove},
		{post, "/stories/:id/phi-ack", authz.StoriesReview, s.storyAcknowledge},
	}
}
