// Package static embeds Storykeep's CSS, scripts and images and serves them
// under content-hashed URLs, so browsers may cache them for a year and still
// see a change the moment it ships. Nothing is loaded from a CDN.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"strings"
)

//go:embed css img js
var files embed.FS

// Assets maps asset names (e.g. "css/app.css") to their hashed URLs.
type Assets struct {
	urls   map[string]string
	hashes map[string]string
}

// Load hashes every embedded file.
func Load() (*Assets, error) {
	a := &Assets{urls: map[string]string{}, hashes: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:6])
		a.hashes[p] = h
		a.urls[p] = "/static/" + h + "/" + p
		return nil
	})
	return a, err
}

// URL returns the hashed URL of name; an unknown name panics at template
// parse or first render so a typo cannot ship silently.
func (a *Assets) URL(name string) string {
	u, ok := a.urls[name]
	if !ok {
		panic("static: unknown asset " + name)
	}
	return u
}

// Open returns the bytes of name and whether hash is its current hash.
func (a *Assets) Open(hash, name string) (data []byte, current bool, err error) {
	name = strings.TrimPrefix(name, "/")
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, false, err
	}
	return b, a.hashes[name] == hash, nil
}
