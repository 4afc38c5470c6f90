package templates

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed static
var staticFiles embed.FS

// StaticPrefix is the path under which the static files are served.
const StaticPrefix = "/static/"

// Assets are the static files of the pages (static/: the stylesheet, the
// favicon). Each is served under a name carrying a hash of its content
// ("usher.3f2a9c01d4e5.css"), which pages link to and browsers may keep for
// a year: another content is another URL. The plain name still answers,
// for links written before, with a short cache.
//
// Build them once with NewAssets (NewPages does); they are read-only.
type Assets struct {
	byName   map[string]*Asset // "usher.css"
	byHashed map[string]*Asset // "usher.3f2a9c01d4e5.css"
}

// Asset is one static file.
type Asset struct {
	Name        string // "usher.css"
	Hashed      string // "usher.3f2a9c01d4e5.css"
	ContentType string
	Data        []byte
}

// NewAssets reads and hashes the embedded static files.
func NewAssets() (*Assets, error) {
	return newAssets(staticFiles)
}

func newAssets(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*Asset{}, byHashed: map[string]*Asset{}}
	entries, err := fs.ReadDir(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(fsys, "static/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("static files: %w", err)
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(e.Name())
		f := &Asset{Name: e.Name(), Data: data, ContentType: contentType(ext),
			Hashed: strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext}
		a.byName[f.Name], a.byHashed[f.Hashed] = f, f
	}
	return a, nil
}

func contentType(ext string) string {
	switch ext {
	case ".ico":
		return "image/vnd.microsoft.icon"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// URL is the path of the static file name with its content hash
// ("/static/usher.3f2a9c01d4e5.css"); a name that is no static file is a
// programming error and gives the plain path.
func (a *Assets) URL(name string) string {
	if f, ok := a.byName[name]; ok {
		return StaticPrefix + f.Hashed
	}
	return StaticPrefix + name
}

// Find returns the static file that file (a name under /static/) names;
// immutable is true when it is the hashed name, which may be cached for
// ever.
func (a *Assets) Find(file string) (f *Asset, immutable, ok bool) {
	if f, ok := a.byHashed[file]; ok {
		return f, true, true
	}
	f, ok = a.byName[file]
	return f, false, ok
}
