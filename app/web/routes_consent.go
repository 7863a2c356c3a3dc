package web

import "github.com/storykeep/storykeep/app/authz"

// consentRoutes: consent requests on a story (staff), the patient's pages
// behind single-use links (/c/ to sign, /r/ to revoke) and the public
// certificate check (issue 5). Tokens are in paths, which the access log
// never records (it logs the route pattern).
func (s *Server) consentRoutes() []Route {
	return []Route{
		{get, "/stories/:id/consent", authz.ConsentView, s.consentStory},
		{post, "/stories/:id/consent", authz.ConsentSendOwn, s.consentSend},
		{post, "/stories/:id/consent/:request/resend", authz.ConsentSendOwn, s.consentResend},
		{post, "/stories/:id/consent/:request/cancel", authz.ConsentSendOwn, s.consentCancel},
		{get, "/consents/:id/certificate", authz.ConsentCertificate, s.consentCertificate},

		{get, "/c/:token", authz.Public, s.patientConsent},
		{post, "/c/:token/verify", authz.Public, s.patientConsentVerify},
		{post, "/c/:token/code", authz.Public, s.patientConsentCode},
		{post, "/c/:token/confirm", authz.Public, s.patientConsentConfirm},
		{post, "/c/:token/sign", authz.Public, s.patientConsentSign},
		{post, "/c/:token/decline", authz.Public, s.patientConsentDecline},
		{get, "/c/:token/media/:asset", authz.Public, s.patientConsentMedia},
		{get, "/c/:token/certificate", authz.Public, s.patientCertificate},
		{get, "/r/:token", authz.Public, s.patientRevokeForm},
		{post, "/r/:token", authz.Public, s.patientRevoke},
		{post, "/r/:token/verify", authz.Public, s.patientRevokeVerify},
		{post, "/r/:token/code", authz.Public, s.patientRevokeCode},
		{get, "/verify/:id", authz.Public, s.verifyCertificate},
		{get, "/verify", authz.Public, s.verifyUploadForm},
		{post, "/verify", authz.Public, s.verifyUpload},
	}
}
