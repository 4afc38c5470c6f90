package main

import (
	"net/http"
	"strings"
	"testing"
)

// /static/ serves files by name and never lists a directory: the
// directory itself, a sub-directory, a way out of it, get the localized
// 404 page (the same the whole handler graph gives what it does not serve).
func TestStaticListsNoDirectory(t *testing.T) {
	u := newFzUsher(t)
	if r := u.must(t, fzRequest{method: http.MethodGet, path: "/static/usher.css"}); r.status != http.StatusOK {
		t.Fatalf("/static/usher.css: %d", r.status)
	}
	for _, path := range []string{"/static/", "/static", "/static/subdir/", "/static/css/", "/static/./", "/static//",
		"/static/%2e%2e/", "/static/usher.css/", "/static/?C=N;O=D"} {
		p, q, _ := strings.Cut(path, "?")
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			r := u.must(t, fzRequest{method: method, path: p, rawQuery: q})
			if r.status == http.StatusMovedPermanently || r.status == http.StatusTemporaryRedirect {
				loc := r.header.Get("Location")
				r = u.must(t, fzRequest{method: method, path: loc})
				path += " → " + loc
			}
			if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s: %d %s, want the 404 page", method, path, r.status, r.header.Get("Content-Type"))
			}
			if strings.Contains(r.body, "usher.css\"") && strings.Contains(r.body, "<pre>") || strings.Contains(r.body, "Index of") {
				t.Errorf("%s %s lists the directory:\n%.500s", method, path, r.body)
			}
		}
	}
}
