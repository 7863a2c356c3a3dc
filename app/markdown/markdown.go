// Package markdown turns story Markdown into HTML that is safe to put on a
// page: goldmark renders it without raw HTML or dangerous link schemes, and a
// bluemonday UGC policy sanitises the result again, so a story cannot carry a
// script onto a staff screen or the public website.
//
// Public output, feeds included, loads nothing from other sites (F21): an
// image whose address is on another host becomes its alt text (a feed reader
// would otherwise fetch a tracking pixel), and a link to another site gets
// rel="nofollow noopener".
package markdown

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

var (
	md = goldmark.New(goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(remoteTransformer{}, 100))))
	policy = newPolicy()
)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy().RequireNoFollowOnLinks(true).AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireParseableURLs(true)
	return p
}

// localURL is a path on this site: one slash, then no slash or backslash.
var localURL = regexp.MustCompile(`^/([^/\\]|$)`)

// Render returns sanitised HTML for src. A rendering failure yields the
// escaped source rather than an error, so a page always shows something.
func Render(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(markRemoteLinks(stripRemoteImages(policy.SanitizeBytes(buf.Bytes())))) //nolint:gosec // sanitised by bluemonday
}

// Remote reports whether a link or image address leaves this site.
func Remote(dest string) bool {
	d := strings.TrimSpace(dest)
	return !localURL.MatchString(d) && !strings.HasPrefix(d, "#") && !strings.HasPrefix(d, "?")
}

// remoteTransformer replaces remote images with their alt text.
type remoteTransformer struct{}

func (remoteTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	var images []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *ast.Image:
			if !localURL.MatchString(string(v.Destination)) {
				images = append(images, v)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, img := range images {
		alt := ast.NewString(img.Text(reader.Source())) //nolint:staticcheck // Text is the alt text
		img.Parent().ReplaceChild(img.Parent(), img, alt)
	}
}

// imgTag is an <img> element as bluemonday writes it, with its src if any.
var imgTag = regexp.MustCompile(`<img\b[^>]*>`)
var srcAttr = regexp.MustCompile(`\ssrc="([^"]*)"`)

// stripRemoteImages drops every <img> that is not a path on this site: the
// transformer already turned remote images into text, and this holds even
// if it missed one (the UGC policy itself allows any http(s) image).
func stripRemoteImages(b []byte) []byte {
	if !bytes.Contains(b, []byte("<img")) {
		return b
	}
	return imgTag.ReplaceAllFunc(b, func(tag []byte) []byte {
		m := srcAttr.FindSubmatch(tag)
		if m == nil || !localURL.Match([]byte(html.UnescapeString(string(m[1])))) {
			return nil
		}
		return tag
	})
}

// anchor matches the opening tags bluemonday writes for links: its own
// rel="nofollow" (it replaces any rel the source had) and an escaped href.
var anchor = regexp.MustCompile(`<a href="([^"]*)" rel="nofollow">`)

// markRemoteLinks adds noopener to links that leave the site. bluemonday
// only adds it together with target="_blank", which the site does not use.
func markRemoteLinks(b []byte) []byte {
	return anchor.ReplaceAllFunc(b, func(m []byte) []byte {
		href := html.UnescapeString(string(anchor.FindSubmatch(m)[1]))
		if !Remote(href) {
			return m
		}
		return bytes.Replace(m, []byte(`rel="nofollow"`), []byte(`rel="nofollow noopener"`), 1)
	})
}
