package stories

import (
	"slices"
	"strings"

	"github.com/storykeep/storykeep/app/channels"
)

func joinTags(tags []string) string { return strings.Join(tags, ", ") }

// orderChannels puts channel keys in the display order of channels.All.
func orderChannels(keys []string) []string {
	out := []string{}
	for _, c := range channels.All {
		if slices.Contains(keys, c.Key) {
			out = append(out, c.Key)
		}
	}
	return out
}
