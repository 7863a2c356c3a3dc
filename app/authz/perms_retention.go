package authz

// RetentionManage sees what has passed retention, sets and lifts legal
// holds and purges evidence (issue 24): admins only.
var RetentionManage = Perm{"retention", "manage"}
