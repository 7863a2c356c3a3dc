package consent

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/sfnt"
)

// The certificate must show any text staff or patients can type: accents,
// right-to-left scripts and emoji. It embeds DejaVu Sans (Latin, Greek,
// Cyrillic, Hebrew, Arabic, many symbols), Noto Sans Arabic and Hebrew (the
// better letterforms for those scripts) and Symbola cut down to its symbol
// and emoji blocks (monochrome emoji: the PDF writer cannot embed colour
// bitmap fonts). Each character is drawn with the first font that has it; a
// character no font has is printed as a marked placeholder "[U+XXXX]"
// rather than failing the job. Licences are beside the files in fonts/.
//
//go:embed fonts/*.ttf
var fontFS embed.FS

type face struct {
	family string
	sf     *sfnt.Font
	data   []byte
}

type fontSet struct {
	regular, bold, arabic, hebrew, symbols face
}

var loadFonts = sync.OnceValues(func() (*fontSet, error) {
	load := func(family, file string) (face, error) {
		b, err := fontFS.ReadFile("fonts/" + file)
		if err != nil {
			return face{}, err
		}
		f, err := sfnt.Parse(b)
		if err != nil {
			return face{}, fmt.Errorf("certificate font %s: %w", file, err)
		}
		return face{family: family, sf: f, data: b}, nil
	}
	var fs fontSet
	var err error
	for _, l := range []struct {
		dst          *face
		family, file string
	}{
		{&fs.regular, "dejavu", "DejaVuSans.ttf"},
		{&fs.bold, "dejavu-bold", "DejaVuSans-Bold.ttf"},
		{&fs.arabic, "noto-arabic", "NotoSansArabic-Regular.ttf"},
		{&fs.hebrew, "noto-hebrew", "NotoSansHebrew-Regular.ttf"},
		{&fs.symbols, "symbola", "Symbola-emoji.ttf"},
	} {
		if *l.dst, err = load(l.family, l.file); err != nil {
			return nil, err
		}
	}
	return &fs, nil
})

func (fs *fontSet) all() []face {
	return []face{fs.regular, fs.bold, fs.arabic, fs.hebrew, fs.symbols}
}

func isArabic(r rune) bool {
	return (r >= 0x0600 && r <= 0x06FF) || (r >= 0x0750 && r <= 0x077F) || (r >= 0x08A0 && r <= 0x08FF) ||
		(r >= 0xFB50 && r <= 0xFDFF) || (r >= 0xFE70 && r <= 0xFEFF)
}

func isHebrew(r rune) bool { return (r >= 0x0590 && r <= 0x05FF) || (r >= 0xFB1D && r <= 0xFB4F) }

// ignorable reports characters that only steer rendering (joiners,
// variation selectors, direction marks, tags): they are dropped.
func ignorable(r rune) bool {
	return (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2060 && r <= 0x206F) ||
		(r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xE0000 && r <= 0xE007F) || r == 0xFEFF
}

// chain is the order in which fonts are tried for r.
func (fs *fontSet) chain(r rune, bold bool) []face {
	base := []face{fs.regular}
	if bold {
		base = []face{fs.bold, fs.regular}
	}
	switch {
	case isArabic(r):
		return append([]face{fs.arabic}, append(base, fs.symbols)...)
	case isHebrew(r):
		return append([]face{fs.hebrew}, append(base, fs.symbols)...)
	}
	return append(base, fs.symbols, fs.arabic, fs.hebrew)
}

// seg is a piece of text drawn with one font.
type seg struct {
	family string
	text   string
}

// segments splits s into runs of one font each, replacing characters no
// font has with a placeholder.
func (p *certPDF) segments(s string, bold bool) []seg {
	var out []seg
	add := func(family, t string) {
		if n := len(out); n > 0 && out[n-1].family == family {
			out[n-1].text += t
			return
		}
		out = append(out, seg{family, t})
	}
	base := p.fonts.regular.family
	if bold {
		base = p.fonts.bold.family
	}
	for _, r := range s {
		switch {
		case ignorable(r):
			continue
		case r == '\t':
			r = ' '
		case unicode.IsControl(r):
			continue
		}
		family := ""
		for _, f := range p.fonts.chain(r, bold) {
			if g, err := f.sf.GlyphIndex(&p.buf, r); err == nil && g != 0 {
				family = f.family
				break
			}
		}
		if family == "" {
			add(base, fmt.Sprintf("[U+%04X]", r))
			continue
		}
		add(family, string(r))
	}
	return out
}

func (p *certPDF) width(segs []seg, size float64) float64 {
	var w float64
	for _, s := range segs {
		if err := p.gp.SetFont(s.family, "", size); err != nil {
			p.fail(err)
			continue
		}
		m, err := p.gp.MeasureTextWidth(s.text)
		if err != nil {
			p.fail(err)
		}
		w += m
	}
	return w
}

// strongRTL reports letters written right to left.
func strongRTL(r rune) bool {
	return (isHebrew(r) || isArabic(r)) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
}

func strongLTR(r rune) bool {
	return !strongRTL(r) && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// rtlParagraph reports whether the first strong character is right to left
// (the paragraph direction of the Unicode bidirectional algorithm, P2-P3).
func rtlParagraph(s string) bool {
	for _, r := range s {
		if strongRTL(r) {
			return true
		}
		if strongLTR(r) {
			return false
		}
	}
	return false
}

var mirrored = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«'}

// visualOrder reorders one line from logical to display order: runs of
// right-to-left letters are reversed (brackets mirrored), neutral
// characters take the direction of the letters around them or else the
// paragraph's, and in a right-to-left paragraph the runs go right to left.
// It is a reduced form of the bidirectional algorithm (no explicit
// embeddings), enough for names and sentences in Hebrew and Arabic mixed
// with Latin text and numbers.
func visualOrder(line string, rtl bool) string {
	rs := []rune(line)
	dir := make([]bool, len(rs)) // true: right to left
	known := make([]bool, len(rs))
	for i, r := range rs {
		if strongRTL(r) {
			dir[i], known[i] = true, true
		} else if strongLTR(r) {
			known[i] = true
		}
	}
	for i := range rs {
		if known[i] {
			continue
		}
		before, after := rtl, rtl
		for j := i - 1; j >= 0; j-- {
			if known[j] {
				before = dir[j]
				break
			}
		}
		for j := i + 1; j < len(rs); j++ {
			if known[j] {
				after = dir[j]
				break
			}
		}
		dir[i] = rtl
		if before == after {
			dir[i] = before
		}
	}
	type run struct {
		rtl bool
		rs  []rune
	}
	var runs []run
	for i, r := range rs {
		if n := len(runs); n > 0 && runs[n-1].rtl == dir[i] {
			runs[n-1].rs = append(runs[n-1].rs, r)
			continue
		}
		runs = append(runs, run{dir[i], []rune{r}})
	}
	if !slices.ContainsFunc(dir, func(d bool) bool { return d }) {
		return line
	}
	if rtl {
		slices.Reverse(runs)
	}
	var b strings.Builder
	for _, rn := range runs {
		if rn.rtl {
			slices.Reverse(rn.rs)
			for i, r := range rn.rs {
				if m, ok := mirrored[r]; ok {
					rn.rs[i] = m
				}
			}
		}
		b.WriteString(string(rn.rs))
	}
	return b.String()
}

// wrap breaks a paragraph into lines no wider than w.
func (p *certPDF) wrap(s string, size, w float64, bold bool) []string {
	var lines []string
	var cur strings.Builder
	var curW float64
	words := strings.SplitAfter(s, " ")
	for _, word := range words {
		ww := p.width(p.segments(word, bold), size)
		trimmedW := p.width(p.segments(strings.TrimRight(word, " "), bold), size)
		if curW+trimmedW <= w || cur.Len() == 0 && trimmedW <= w {
			cur.WriteString(word)
			curW += ww
			continue
		}
		if cur.Len() > 0 {
			lines = append(lines, strings.TrimRight(cur.String(), " "))
			cur.Reset()
			curW = 0
		}
		if trimmedW <= w {
			cur.WriteString(word)
			curW = ww
			continue
		}
		for _, r := range word { // a word longer than the line: break anywhere
			rw := p.width(p.segments(string(r), bold), size)
			if curW+rw > w && cur.Len() > 0 {
				lines = append(lines, cur.String())
				cur.Reset()
				curW = 0
			}
			cur.WriteRune(r)
			curW += rw
		}
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, strings.TrimRight(cur.String(), " "))
	}
	return lines
}

// para prints s (which may hold several lines) in the column x..x+w,
// starting at the current y, and moves y below it.
func (p *certPDF) para(x, w, size float64, bold bool, s string) {
	lh := size * 0.45
	for _, paragraph := range strings.Split(canon(s), "\n") {
		paragraph = shapeArabic(paragraph)
		rtl := rtlParagraph(paragraph)
		for _, line := range p.wrap(paragraph, size, w, bold) {
			p.need(lh)
			segs := p.segments(visualOrder(line, rtl), bold)
			lx := x
			if rtl {
				lx = x + w - p.width(segs, size)
			}
			for _, sg := range segs {
				if err := p.gp.SetFont(sg.family, "", size); err != nil {
					p.fail(err)
					continue
				}
				p.gp.SetXY(lx, p.y)
				if err := p.gp.Cell(nil, sg.text); err != nil {
					p.fail(err)
				}
				m, _ := p.gp.MeasureTextWidth(sg.text)
				lx += m
			}
			p.y += lh
		}
	}
}

func (p *certPDF) fail(err error) {
	if p.err == nil && err != nil {
		p.err = err
	}
}

// addFonts registers every certificate font with the document.
func (p *certPDF) addFonts() error {
	for _, f := range p.fonts.all() {
		if err := p.gp.AddTTFFontData(f.family, f.data); err != nil {
			return fmt.Errorf("certificate font %s: %w", f.family, err)
		}
	}
	return nil
}
