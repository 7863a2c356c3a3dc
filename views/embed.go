// Package views embeds the html/template files: layouts/ (the page frame),
// partials/ (shared pieces) and pages/ (one file per screen). They are parsed
// once at start; a missing or broken template stops the server from starting.
package views

import "embed"

// FS holds every template.
//
//go:embed layouts/*.html partials/*.html pages/*.html
var FS embed.FS
