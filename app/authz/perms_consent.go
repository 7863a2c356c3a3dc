package authz

// Consent permissions, granted in migration 00045. Signing, declining and
// revoking are the patient's, through single-use links (Public routes).
var (
	// ConsentView lets staff see a story's consent requests and records and
	// download certificates.
	ConsentView = Perm{"consent", "view"}
	// ConsentSend sends, resends and cancels requests for any story; roles
	// holding only ConsentSendOwn do so for stories they own or collaborate on.
	ConsentSend = Perm{"consent", "send"}
	// ConsentSendOwn is what the send routes require; AllowedOn with
	// ConsentSend then decides per story.
	ConsentSendOwn = Perm{"consent", "send_own"}
	// ConsentCertificate downloads a signed consent's certificate PDF, which
	// names the patient and carries the signature: admins, storytellers and
	// reviewers, not publishers (finding F5; migration 00080).
	ConsentCertificate = Perm{"consent", "certificate"}
)
