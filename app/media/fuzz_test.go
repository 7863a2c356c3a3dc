package media

import (
	"strings"
	"testing"
)

// FuzzDetect: upload sniffing decides from the bytes alone, never panics,
// accepts only the listed types, and says in words why it refused.
func FuzzDetect(f *testing.F) {
	for _, seed := range [][]byte{
		{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0},
		[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		[]byte("GIF89a\x01\x00\x01\x00"),
		[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "),
		[]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
		[]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
		[]byte("ID3\x04\x00\x00\x00\x00\x00\x00"),
		[]byte("RIFF\x00\x00\x00\x00WAVEfmt "),
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		[]byte("<!DOCTYPE html><html>"), []byte("%PDF-1.7"), []byte("MZ\x90\x00"), {},
	} {
		f.Add(seed, "photo.jpg")
	}
	f.Fuzz(func(t *testing.T, head []byte, declared string) {
		if len(head) > sniffLen {
			head = head[:sniffLen]
		}
		fm, mime, err := detect(head, declared)
		if err == nil {
			if want, ok := accepted[mime]; !ok || want != fm {
				t.Fatalf("accepted %q as %+v", mime, fm)
			}
			return
		}
		if !strings.Contains(err.Error(), acceptedList) {
			t.Fatalf("refusal %q does not list what is accepted", err)
		}
		if fm != (format{}) {
			t.Fatalf("refused but returned a format %+v", fm)
		}
		// The same bytes under another name get the same verdict.
		if _, mime2, err2 := detect(head, "other.png"); mime2 != mime || (err2 == nil) {
			t.Fatalf("the declared name changed the verdict: %q/%v vs %q/%v", mime, err, mime2, err2)
		}
	})
}
