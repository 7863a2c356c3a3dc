package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxePath is axe-core's browser bundle, installed by `npm ci --prefix e2e`.
const AxePath = "node_modules/axe-core/axe.min.js"

// AxeTags are the rule sets every staff and patient page must pass: WCAG
// 2.0 and 2.1, levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

var axe struct {
	once sync.Once
	src  string
	err  error
}

// axeSource reads axe.min.js once. Without it the test is skipped, or fails
// under CI=true.
func axeSource(t *testing.T) string {
	t.Helper()
	axe.once.Do(func() {
		b, err := os.ReadFile(AxePath)
		axe.src, axe.err = string(b), err
	})
	if axe.err != nil {
		msg := fmt.Sprintf("e2e: axe-core missing (%v); install it: npm ci --prefix e2e", axe.err)
		if ci() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return axe.src
}

// AxeViolation is one failed axe rule on a page.
type AxeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// InjectAxe loads axe-core into the current document. It goes through
// DevTools (Runtime.evaluate), which the page's Content-Security-Policy does
// not govern, so no inline script or CSP exception is needed in the app
// (TestAxeHarness checks that).
func (p *Page) InjectAxe() {
	p.t.Helper()
	src := axeSource(p.t)
	if !Eval[bool](p, `typeof window.axe === "object"`) {
		p.Do(chromedp.Evaluate[chromedp.Void](src))
	}
}

// AxeViolations injects axe-core and runs it with the AxeTags rule sets on
// the current document, returning every violation whatever its impact.
func (p *Page) AxeViolations() []AxeViolation {
	p.t.Helper()
	p.InjectAxe()
	tags, _ := json.Marshal(AxeTags)
	raw := Eval[[]byte](p, `axe.run(document, {runOnly: `+string(tags)+`, resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))
	}))))`)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.t.Fatalf("axe result: %v", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		p.t.Fatalf("axe result: %v", err)
	}
	return vs
}

// CheckA11y runs axe-core (WCAG 2.0/2.1 A and AA) on the current page and
// fails the test for every violation of impact serious or critical,
// printing the rule, its help text and the selectors of the elements; it
// saves a screenshot of the page into the test's artefacts when it finds any.
// Moderate and minor findings are logged.
func (p *Page) CheckA11y() {
	p.t.Helper()
	vs := p.AxeViolations()
	path := p.Path()
	var bad []string
	for _, v := range vs {
		var b strings.Builder
		fmt.Fprintf(&b, "axe %s [%s] on %s: %s (%s)", v.ID, v.Impact, path, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    at %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, b.String())
		} else {
			p.t.Log(b.String())
		}
	}
	if len(bad) > 0 {
		base := filepath.Join(p.testDir(), "axe-"+unsafeName.ReplaceAllString(strings.Trim(path, "/"), "_"))
		if png, html, err := p.capture(base); err == nil {
			p.t.Logf("axe artefacts: %s %s", png, html)
		}
		for _, m := range bad {
			p.t.Error(m)
		}
	}
}
