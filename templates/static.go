package templates

import (
	"embed"
	"io/fs"
)

//go:embed static
var staticFiles embed.FS

// Static returns the files served under /static/: the stylesheet usher.css.
// Serve it with
//
//	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(templates.Static())))
func Static() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the directory is embedded: this cannot happen
	}
	return sub
}
