package disclosure

import (
	"bytes"
	"html/template"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/storykeep/storykeep/app/markdown"
)

// inline elements do not separate words: "<strong>Ma</strong>ria" reads
// "Maria". Every other element does.
var inline = map[atom.Atom]bool{atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true, atom.Cite: true,
	atom.Code: true, atom.Data: true, atom.Del: true, atom.Dfn: true, atom.Em: true, atom.I: true, atom.Ins: true, atom.Kbd: true,
	atom.Mark: true, atom.Q: true, atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strong: true,
	atom.Sub: true, atom.Sup: true, atom.Time: true, atom.U: true, atom.Var: true}

// Markdown renders story Markdown to sanitised HTML and then rewrites the
// rendered text, as a reader sees it, for the name usage: entities are
// already decoded by then, emphasis no longer splits a word, and a mention
// spread over several text nodes is replaced as one. Alt and title
// attributes are rewritten as plain text.
func (n *Names) Markdown(src string) template.HTML {
	out := markdown.Render(src)
	if n.re == nil {
		return out
	}
	return n.HTML(string(out))
}

// HTML rewrites the text of an HTML fragment; see Markdown.
func (n *Names) HTML(src string) template.HTML {
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(src), ctx)
	if err != nil {
		return template.HTML(template.HTMLEscapeString(n.Text(src))) //nolint:gosec // escaped
	}
	type seg struct {
		node *html.Node
		off  int
	}
	var text strings.Builder
	var segs []seg
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		switch x.Type {
		case html.TextNode:
			// Text that spells an entity ("M&#97;ria" written as
			// "M&amp;#97;ria") is decoded too: some reader will.
			x.Data = unescapeAll(x.Data)
			segs = append(segs, seg{x, text.Len()})
			text.WriteString(x.Data)
			return
		case html.ElementNode:
			for i, a := range x.Attr {
				if a.Key == "alt" || a.Key == "title" || a.Key == "aria-label" {
					x.Attr[i].Val = n.Text(a.Val)
				}
			}
			if !inline[x.DataAtom] {
				text.WriteString("\n")
			}
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if x.Type == html.ElementNode && !inline[x.DataAtom] {
			text.WriteString("\n")
		}
	}
	for _, x := range nodes {
		walk(x)
	}
	all := text.String()
	eds := n.edits(all)
	if len(eds) > 0 {
		// Apply each edit to every text node it overlaps: the replacement
		// goes where the mention starts, the rest of it is cut.
		for i := len(segs) - 1; i >= 0; i-- {
			sg := segs[i]
			lo, hi := sg.off, sg.off+len(sg.node.Data)
			data := sg.node.Data
			for j := len(eds) - 1; j >= 0; j-- {
				ed := eds[j]
				if ed.e <= lo || ed.a >= hi {
					continue
				}
				a, e := max(ed.a, lo)-lo, min(ed.e, hi)-lo
				repl := ""
				if ed.a >= lo {
					repl = ed.repl
				}
				data = data[:a] + repl + data[e:]
			}
			sg.node.Data = data
		}
	}
	var b bytes.Buffer
	for _, x := range nodes {
		if err := html.Render(&b, x); err != nil {
			return template.HTML(template.HTMLEscapeString(n.Text(src))) //nolint:gosec // escaped
		}
	}
	return template.HTML(b.String()) //nolint:gosec // re-serialised from sanitised HTML; only text changed
}
