package authz

// Paper routes of consent (issue 19 item 4), granted in migration 00160.
var (
	// ConsentPaper records paper authorizations, written revocations and
	// withdrawals of e-consent, and completes patient tasks, on any story;
	// roles holding only ConsentPaperOwn do so on stories they own or
	// collaborate on.
	ConsentPaper = Perm{"consent", "paper"}
	// ConsentPaperOwn is what the paper routes require; AllowedOn with
	// ConsentPaper then decides per story.
	ConsentPaperOwn = Perm{"consent", "paper_own"}
)
