package authz

// TemplatesManage edits and activates consent form templates; the text a
// patient signs is a legal document, so only admins change it.
var TemplatesManage = Perm{"consent_templates", "manage"}
