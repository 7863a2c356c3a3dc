package consent

import (
	"bytes"
	"compress/zlib"
	"crypto/md5" //nolint:gosec // MD5 is what PDF requires for /CheckSum and conventionally for /ID; it protects nothing here
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Attachment is a file embedded in the certificate PDF as a document-level
// associated file (/AF, /AFRelationship /Data, as PDF/A-3 does).
type Attachment struct {
	Name        string // file name, ASCII
	Description string
	MIME        string // e.g. application/json
	Data        []byte
}

// pdfObjects splits a classic (xref table) PDF into its objects by the
// offsets its cross-reference table gives.
func pdfObjects(pdf []byte) (map[int][]byte, []byte, error) {
	sx := bytes.LastIndex(pdf, []byte("startxref"))
	if sx < 0 {
		return nil, nil, fmt.Errorf("pdf: no startxref")
	}
	f := strings.Fields(string(pdf[sx+len("startxref"):]))
	if len(f) == 0 {
		return nil, nil, fmt.Errorf("pdf: bad startxref")
	}
	xref, err := strconv.Atoi(f[0])
	if err != nil || xref <= 0 || xref >= len(pdf) {
		return nil, nil, fmt.Errorf("pdf: bad startxref")
	}
	lines := strings.Split(string(pdf[xref:]), "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "xref" {
		return nil, nil, fmt.Errorf("pdf: no xref table")
	}
	hdr := strings.Fields(lines[1])
	if len(hdr) != 2 {
		return nil, nil, fmt.Errorf("pdf: bad xref subsection")
	}
	first, _ := strconv.Atoi(hdr[0])
	count, _ := strconv.Atoi(hdr[1])
	type entry struct{ id, off int }
	var entries []entry
	for i := 0; i < count && i+2 < len(lines); i++ {
		e := strings.Fields(lines[i+2])
		if len(e) == 3 && e[2] == "n" {
			off, _ := strconv.Atoi(e[0])
			entries = append(entries, entry{first + i, off})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.off - b.off })
	objs := map[int][]byte{}
	for i, e := range entries {
		end := xref
		if i+1 < len(entries) {
			end = entries[i+1].off
		}
		if e.off <= 0 || e.off >= end {
			return nil, nil, fmt.Errorf("pdf: bad offset for object %d", e.id)
		}
		body := pdf[e.off:end]
		k := bytes.LastIndex(body, []byte("endobj"))
		if k < 0 {
			return nil, nil, fmt.Errorf("pdf: object %d has no endobj", e.id)
		}
		objs[e.id] = body[:k+len("endobj")]
	}
	ti := bytes.LastIndex(pdf, []byte("trailer"))
	if ti < 0 {
		return nil, nil, fmt.Errorf("pdf: no trailer")
	}
	return objs, pdf[ti:sx], nil
}

var (
	bfrangeSMP = regexp.MustCompile(`<([0-9A-F]{4})><([0-9A-F]{4})><([0-9A-F]{5,6})>`)
	objHeader  = regexp.MustCompile(`^(\d+) 0 obj\s*`)
	infoRef    = regexp.MustCompile(`/Info\s+(\d+)\s+0\s+R`)
)

// fixToUnicode rewrites a ToUnicode CMap's entries for characters beyond
// the Basic Multilingual Plane (emoji) as UTF-16 surrogate pairs, which is
// what the CMap format requires; the PDF writer prints them as bare
// five-digit hex, which readers decode wrongly.
func fixToUnicode(id int, obj []byte) []byte {
	if !bytes.Contains(obj, []byte("beginbfrange")) || !bfrangeSMP.Match(obj) {
		return obj
	}
	si := bytes.Index(obj, []byte("stream\n"))
	ei := bytes.LastIndex(obj, []byte("endstream"))
	if si < 0 || ei < si {
		return obj
	}
	content := bfrangeSMP.ReplaceAllFunc(obj[si+len("stream\n"):ei], func(m []byte) []byte {
		g := bfrangeSMP.FindSubmatch(m)
		v, _ := strconv.ParseUint(string(g[3]), 16, 32)
		hi, lo := utf16.EncodeRune(rune(v))
		return fmt.Appendf(nil, "<%s><%s><%04X%04X>", g[1], g[2], hi, lo)
	})
	return fmt.Appendf(nil, "%d 0 obj\n<<\n/Length %d\n>>\nstream\n%sendstream\nendobj", id, len(content), content)
}

// pdfString writes s as a PDF text string: literal when it is printable
// ASCII, else UTF-16BE hex with a byte order mark.
func pdfString(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return "(" + strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s) + ")"
	}
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String() + ">"
}

func pdfDate(t time.Time) string { return "D:" + t.UTC().Format("20060102150405") + "Z" }

// finishPDF rewrites the writer's output: ToUnicode maps fixed for emoji,
// the attachments embedded and referenced from the catalog (/Names
// /EmbeddedFiles and /AF), and a fresh cross-reference table with a
// document /ID.
func finishPDF(pdf []byte, atts []Attachment, modified time.Time) ([]byte, error) {
	objs, trailer, err := pdfObjects(pdf)
	if err != nil {
		return nil, err
	}
	rootID := 0
	maxID := 0
	for id, o := range objs {
		maxID = max(maxID, id)
		if bytes.Contains(o, []byte("/Type /Catalog")) {
			rootID = id
		}
		objs[id] = fixToUnicode(id, o)
	}
	if rootID == 0 {
		return nil, fmt.Errorf("pdf: no catalog")
	}
	var names, afs []string
	for _, a := range atts {
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zw.Write(a.Data)
		zw.Close()
		sum := md5.Sum(a.Data) //nolint:gosec // required by the PDF format
		fileID, specID := maxID+1, maxID+2
		maxID += 2
		mime := strings.ReplaceAll(a.MIME, "/", "#2F")
		objs[fileID] = slices.Concat(fmt.Appendf(nil, "%d 0 obj\n<< /Type /EmbeddedFile /Subtype /%s /Filter /FlateDecode /Length %d /Params << /Size %d /ModDate (%s) /CheckSum <%s> >> >>\nstream\n",
			fileID, mime, z.Len(), len(a.Data), pdfDate(modified), hex.EncodeToString(sum[:])), z.Bytes(), []byte("\nendstream\nendobj"))
		objs[specID] = fmt.Appendf(nil, "%d 0 obj\n<< /Type /Filespec /F %s /UF %s /Desc %s /AFRelationship /Data /EF << /F %d 0 R /UF %d 0 R >> >>\nendobj",
			specID, pdfString(a.Name), pdfString(a.Name), pdfString(a.Description), fileID, fileID)
		names = append(names, fmt.Sprintf("%s %d 0 R", pdfString(a.Name), specID))
		afs = append(afs, fmt.Sprintf("%d 0 R", specID))
	}
	cat := objs[rootID]
	end := bytes.LastIndex(cat, []byte(">>"))
	if end < 0 {
		return nil, fmt.Errorf("pdf: bad catalog")
	}
	if len(atts) > 0 {
		// Names in a name tree must be sorted; attachment names are few.
		slices.Sort(names)
		extra := fmt.Sprintf("  /Names << /EmbeddedFiles << /Names [%s] >> >>\n  /AF [%s]\n  /PageMode /UseAttachments\n",
			strings.Join(names, " "), strings.Join(afs, " "))
		cat = slices.Concat(cat[:end], []byte(extra), cat[end:])
		objs[rootID] = cat
	}

	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, maxID+1)
	for id := 1; id <= maxID; id++ {
		o, ok := objs[id]
		if !ok {
			continue
		}
		offsets[id] = out.Len()
		if m := objHeader.FindIndex(o); m == nil {
			return nil, fmt.Errorf("pdf: object %d has no header", id)
		}
		out.Write(o)
		out.WriteString("\n")
	}
	sum := md5.Sum(out.Bytes()) //nolint:gosec // a file identifier, not a security measure
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", maxID+1)
	for id := 1; id <= maxID; id++ {
		if offsets[id] == 0 {
			out.WriteString("0000000000 65535 f \n")
			continue
		}
		fmt.Fprintf(&out, "%010d 00000 n \n", offsets[id])
	}
	info := ""
	if m := infoRef.FindSubmatch(trailer); m != nil {
		info = fmt.Sprintf(" /Info %s 0 R", m[1])
	}
	id := hex.EncodeToString(sum[:])
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R%s /ID [<%s><%s>] >>\nstartxref\n%d\n%%%%EOF\n", maxID+1, rootID, info, id, id, xref)
	return out.Bytes(), nil
}
