package flows

import "testing"

func TestInstitutionSlugOf(t *testing.T) {
	for path, want := range map[string]string{
		"/institutions/demo":         "demo",
		"/institutions/demo/":        "demo",
		"/institutions/demo/login":   "demo",
		"/institutions/":             "",
		"/institutions":              "",
		"/static/usher.css":          "",
		"/x/institutions/demo/login": "",
	} {
		if got := institutionSlugOf(path); got != want {
			t.Errorf("institutionSlugOf(%q) = %q, want %q", path, got, want)
		}
	}
}
