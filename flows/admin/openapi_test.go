package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// openAPIDoc is the part of the OpenAPI document the walk reads.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Servers []struct{ URL string }                `json:"servers"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOperation struct {
	OperationID string                `json:"operationId"`
	Security    []map[string][]string `json:"security"`
	Responses   map[string]any        `json:"responses"`
}

// The OpenAPI document is true: every route the API registers is
// documented with its method and the scopes that open it, and every
// documented operation is a route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	registered := map[string]route{}
	for _, rt := range (&API{}).routes() {
		key := strings.ToLower(rt.method) + " " + rt.path
		if _, dup := registered[key]; dup {
			t.Errorf("%s is registered twice", key)
		}
		registered[key] = rt
		raw, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s %s is not documented", rt.method, rt.path)
			continue
		}
		var op openAPIOperation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s %s: %v", rt.method, rt.path, err)
		}
		var scopes []string
		for _, req := range op.Security {
			scopes = append(scopes, req["usher"]...)
		}
		if !slices.Equal(scopes, rt.scopes) && (len(scopes) > 0 || len(rt.scopes) > 0) {
			t.Errorf("%s %s: documented scopes %v, route scopes %v", rt.method, rt.path, scopes, rt.scopes)
		}
		if op.OperationID == "" || len(op.Responses) == 0 {
			t.Errorf("%s %s: no operationId or no responses", rt.method, rt.path)
		}
	}
	for path, item := range doc.Paths {
		for method := range item {
			if method == "parameters" {
				continue
			}
			if _, ok := registered[method+" "+path]; !ok {
				t.Errorf("%s %s is documented but not registered", strings.ToUpper(method), path)
			}
		}
	}
}

// Served, the document names the institution's own issuer.
func TestOpenAPIDocumentNamesTheIssuer(t *testing.T) {
	api := testAPI(t)
	mux := http.NewServeMux()
	api.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/institutions/opera/admin/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET openapi.json: %d %s", rec.Code, rec.Body)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://id.example.org/institutions/opera/admin/v1" {
		t.Errorf("servers %+v", doc.Servers)
	}
	if strings.Contains(rec.Body.String(), issuerPlaceholder) {
		t.Error("the placeholder is left in the served document")
	}
}

// oneInstitution finds the institution "opera" only.
type oneInstitution struct{}

func (oneInstitution) GetInstitutionBySlug(_ context.Context, slug string) (*storage.Institution, error) {
	if slug != "opera" {
		return nil, storage.ErrNotFound
	}
	return &storage.Institution{ID: "i1", Slug: "opera", Settings: storage.DefaultSettings()}, nil
}

// noTokens refuses every token.
type noTokens struct{}

func (noTokens) Verify(context.Context, *storage.Institution, string) (*issuer.Caller, error) {
	return nil, issuer.ErrInvalidToken
}

type noDocuments struct{}

func (noDocuments) Documents(context.Context, *storage.Institution, templates.EmailClass) ([]string, error) {
	return []string{""}, nil
}

// testAPI is the API with an institution "opera", no valid token and no
// store: enough for what needs neither.
func testAPI(t *testing.T) *API {
	t.Helper()
	catalog, err := templates.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	api, err := New(Config{Institutions: oneInstitution{}, Tokens: noTokens{}, Accounts: &flows.Accounts{}, Invitations: &flows.Invitations{},
		Settings: &flows.Institutions{}, Documents: noDocuments{}, Catalog: catalog, PublicURL: "https://id.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return api
}
