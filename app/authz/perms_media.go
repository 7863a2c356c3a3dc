package authz

var (
	// MediaUpload adds media to a story or interview; the handler also
	// requires edit rights on that story or interview.
	MediaUpload = Perm{"media", "upload"}
	// MediaView opens media; the handler also requires sight of its owner.
	MediaView = Perm{"media", "view"}
)
