// Package markdown turns story Markdown into HTML that is safe to put on a
// page: goldmark renders it without raw HTML or dangerous link schemes, and a
// bluemonday UGC policy sanitises the result again, so a story cannot carry a
// script onto a staff screen or the public website.
package markdown

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

var (
	md     = goldmark.New(goldmark.WithExtensions(extension.GFM))
	policy = bluemonday.UGCPolicy().RequireNoFollowOnLinks(true).AddTargetBlankToFullyQualifiedLinks(false)
)

// Render returns sanitised HTML for src. A rendering failure yields the
// escaped source rather than an error, so a page always shows something.
func Render(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(policy.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitised by bluemonday
}
