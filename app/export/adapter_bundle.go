package export

import "context"

// Bundle is the method of channels without an account: the post is
// formatted and checked like any other, then waits in the export bundle for
// a person to post by hand. Nothing leaves Storykeep, so there is nothing to
// delete; a takedown records that the manual post must be removed by hand.
type Bundle struct{}

// Method names the adapter.
func (Bundle) Method() string { return "bundle" }

// Format applies the channel's own rule.
func (Bundle) Format(_ context.Context, _ Account, p Post) (Formatted, error) {
	return formatWith(p, Rules[p.Channel])
}

// Publish marks the post ready in the bundle.
func (Bundle) Publish(_ context.Context, acct Account, _ Formatted, _ []MediaFile) (ExternalRef, error) {
	return ExternalRef{URL: "/stories/" + acct.StoryID + "/export.zip"}, nil
}

// Delete has nothing to delete.
func (Bundle) Delete(context.Context, Account, ExternalRef) error { return nil }
