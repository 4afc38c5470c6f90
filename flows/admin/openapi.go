package admin

import (
	"bytes"
	_ "embed"
	"net/http"

	"github.com/usher-idp/usher/internal/issuer"
)

// openAPIDocument is the OpenAPI 3.1 document of the API. Its URLs start
// with issuerPlaceholder, which is replaced by the institution's issuer
// when it is served. openapi_test.go checks that it documents every route
// of routes.go and nothing else.
//
//go:embed openapi.json
var openAPIDocument []byte

const issuerPlaceholder = "https://issuer.invalid"

// openAPI: GET openapi.json, the document of the institution's API.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request, c *call) {
	doc := bytes.ReplaceAll(openAPIDocument, []byte(issuerPlaceholder), []byte(issuer.URL(a.publicURL, c.inst.Slug)))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(doc)
	}
}
