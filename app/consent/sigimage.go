package consent

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// TypedSignaturePNG draws a typed signature as an image, so a signer who
// cannot use a pointer (keyboard, switch or screen-reader users) signs with
// the same kind of evidence as one who draws. It uses the DejaVu font the
// certificate embeds, which has every accented letter.
func TypedSignaturePNG(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	b, err := fontFS.ReadFile("fonts/DejaVuSans.ttf")
	if err != nil {
		return nil, err
	}
	f, err := opentype.Parse(b)
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 36, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	width := font.MeasureString(face, text).Ceil() + 40
	img := image.NewRGBA(image.Rect(0, 0, max(width, 200), 80))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{0x10, 0x20, 0x60, 0xff}), Face: face, Dot: fixed.P(20, 52)}
	d.DrawString(text)
	// A baseline under the name, as on paper.
	for x := 10; x < img.Bounds().Dx()-10; x++ {
		img.Set(x, 62, color.Gray{Y: 0x80})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
