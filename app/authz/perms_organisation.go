package authz

// OrganisationManage edits the organisation's contact details and time
// zone (Admin → Organisation; admins only, issue 19 item 3).
var OrganisationManage = Perm{"organisation", "manage"}
