package web

import "github.com/storykeep/storykeep/app/authz"

func init() {
	insertNav("/admin/users",
		navEntry{"/patients", "Patients", authz.PatientsList},
		navEntry{"/interviews", "My interviews", authz.InterviewsView},
		navEntry{"/inbox", "Inbox", authz.InboxView},
	)
	insertNav("/admin/audit", navEntry{"/admin/settings", "Settings", authz.SettingsManage})
}

// patientRoutes: patients, interviews, comments and the inbox (issue 3).
func (s *Server) patientRoutes() []Route {
	return []Route{
		{get, "/patients", authz.PatientsList, s.patientList},
		{get, "/patients/new", authz.PatientsManage, s.patientNew},
		{post, "/patients", authz.PatientsManage, s.patientCreate},
		{get, "/patients/:id", authz.PatientsView, s.patientView},
		{get, "/patients/:id/edit", authz.PatientsManage, s.patientEdit},
		{post, "/patients/:id", authz.PatientsManage, s.patientUpdate},
		{get, "/admin/settings", authz.SettingsManage, s.settingsForm},
		{post, "/admin/settings", authz.SettingsManage, s.settingsSave},

		{get, "/patients/:id/interviews/new", authz.InterviewsManage, s.interviewNew},
		{post, "/patients/:id/interviews", authz.InterviewsManage, s.interviewCreate},
		{get, "/interviews", authz.InterviewsView, s.interviewMine},
		{get, "/interviews/:id", authz.InterviewsView, s.interviewView},
		{post, "/interviews/:id/notes", authz.InterviewsManage, s.interviewNotes},
		{post, "/interviews/:id/status", authz.InterviewsManage, s.interviewStatus},

		{get, "/stories/:id/comments", authz.CommentsView, s.commentThread},
		{post, "/stories/:id/comments", authz.CommentsCreate, s.commentCreate},
		{get, "/inbox", authz.InboxView, s.inbox},
		{post, "/inbox/read-all", authz.InboxView, s.inboxReadAll},
		{post, "/inbox/:id/read", authz.InboxView, s.inboxRead},
	}
}
