package authz

// Permissions for patients, interviews, comments, the inbox and settings
// (granted in migrations/00013_patients_policies.sql).
var (
	// PatientsList shows patient names only, so reviewers can find the
	// patient behind a story without opening contact details.
	PatientsList = Perm{"patients", "list"}
	// PatientsView opens decrypted details; every use is audited.
	PatientsView = Perm{"patients", "view"}
	// PatientsManage creates and edits patients (storytellers and admins).
	PatientsManage = Perm{"patients", "manage"}
	// PatientsContact changes a patient's date of birth, email or phone
	// (finding F10): role-wide for admins, "_own" for storytellers on the
	// patients of their stories (patients.Entitled).
	PatientsContact = Perm{"patients", "contact"}
	// InterviewsView lists interviews; interviews carry patient notes, so
	// only the people who run them see them.
	InterviewsView = Perm{"interviews", "view"}
	// InterviewsManage schedules interviews, edits notes and changes status.
	InterviewsManage = Perm{"interviews", "manage"}
	// InterviewsOpen reads one interview (its notes and recordings) and
	// InterviewsEdit changes it (notes, status, recordings): role-wide for
	// admins, "_own" for storytellers, whose interviews are those they run or
	// scheduled and those of the patients of their stories (finding F11,
	// interviews.Owners).
	InterviewsOpen = Perm{"interviews", "open"}
	InterviewsEdit = Perm{"interviews", "edit"}
	// CommentsView reads a story's internal comment thread.
	CommentsView = Perm{"comments", "view"}
	// CommentsCreate posts a comment; every staff role may discuss a story.
	CommentsCreate = Perm{"comments", "create"}
	// InboxView is the signed-in user's own notifications.
	InboxView = Perm{"inbox", "view"}
	// SettingsManage changes organisation-wide settings (admin only).
	SettingsManage = Perm{"settings", "manage"}
)
