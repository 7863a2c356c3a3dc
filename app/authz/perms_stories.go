package authz

// Story permissions, granted in migration 00020. Which lifecycle transition a
// role may make is decided by the workflow table (app/workflow), so the route
// needs only StoriesTransition.
var (
	// StoriesView lets staff read stories, their history and timeline.
	StoriesView = Perm{"stories", "view"}
	// StoriesCreate lets a role start a story.
	StoriesCreate = Perm{"stories", "create"}
	// StoriesEdit edits any story; roles holding only StoriesEditOwn edit the
	// stories they own or collaborate on (checked with AllowedOn).
	StoriesEdit = Perm{"stories", "edit"}
	// StoriesEditOwn is what the edit routes require; AllowedOn with
	// StoriesEdit then decides per story.
	StoriesEditOwn = Perm{"stories", "edit_own"}
	// StoriesTransition lets a role ask for a lifecycle transition.
	StoriesTransition = Perm{"stories", "transition"}
	// StoriesReview lets legal reviewers acknowledge PHI findings.
	StoriesReview = Perm{"stories", "review"}
)
