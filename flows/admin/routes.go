package admin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// pathPrefix is where the API lives under an institution's issuer.
const pathPrefix = "/admin/v1"

// route is one operation of the API: a method, a path under pathPrefix
// (an http.ServeMux pattern), the scopes that open it (any one of them;
// none: no token needed) and its handler.
type route struct {
	method string
	path   string
	scopes []string
	serve  handler
}

// routes are every operation of the API; openapi.json documents each.
func (a *API) routes() []route {
	read := []string{issuer.ScopeAccountsRead, issuer.ScopeAccountsWrite}
	write := []string{issuer.ScopeAccountsWrite}
	settings := []string{issuer.ScopeSettingsWrite}
	acc, set := accountRoutes{a}, settingsRoutes{a}
	return []route{
		{http.MethodGet, "/openapi.json", nil, a.openAPI},
		{http.MethodGet, "/accounts", read, acc.listAccounts},
		{http.MethodPost, "/accounts", write, acc.createAccount},
		{http.MethodGet, "/accounts/{id}", read, acc.getAccount},
		{http.MethodPatch, "/accounts/{id}", write, acc.patchAccount},
		{http.MethodPost, "/accounts/{id}/disable", write, acc.disable},
		{http.MethodPost, "/accounts/{id}/enable", write, acc.enable},
		{http.MethodPost, "/accounts/{id}/unlock", write, acc.unlock},
		{http.MethodPost, "/accounts/{id}/password-reset", write, acc.passwordReset},
		{http.MethodPost, "/accounts/{id}/invitation", write, acc.invite},
		{http.MethodPut, "/accounts/{id}/password", write, acc.setPassword},
		{http.MethodPut, "/accounts/{id}/two-factor", write, acc.requireTwoFactor},
		{http.MethodDelete, "/accounts/{id}/two-factor", write, acc.removeTwoFactor},
		{http.MethodGet, "/accounts/{id}/events", read, acc.events},
		{http.MethodGet, "/settings", slices.Concat(read, []string{issuer.ScopeSettingsWrite}), set.getSettings},
		{http.MethodPatch, "/settings", settings, set.patchSettings},
		{http.MethodPut, "/settings/logo", settings, set.putImage(storage.AssetLogo)},
		{http.MethodDelete, "/settings/logo", settings, set.deleteImage(storage.AssetLogo)},
		{http.MethodPut, "/settings/favicon", settings, set.putImage(storage.AssetFavicon)},
		{http.MethodDelete, "/settings/favicon", settings, set.deleteImage(storage.AssetFavicon)},
		{http.MethodGet, "/documents", read, a.listDocuments},
	}
}

// Routes registers the API on mux under every institution's issuer:
// each operation, a 405 problem (with Allow) for the other methods of its
// path, and a 404 problem for any other path under {issuer}/admin/.
func (a *API) Routes(mux *http.ServeMux) {
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+issuer.Pattern+pathPrefix+rt.path, a.serve(rt))
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	for _, path := range paths {
		mux.Handle(issuer.Pattern+pathPrefix+path, a.wrongMethod(allowed[path]))
	}
	mux.Handle(issuer.Pattern+"/admin/", a.unknownPath())
}

// wrongMethod answers a method the path does not take.
func (a *API) wrongMethod(methods []string) http.Handler {
	if slices.Contains(methods, http.MethodGet) {
		methods = append(slices.Clone(methods), http.MethodHead)
	}
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		a.problem(w, r, &call{locale: a.locale(r)}, problem{status: http.StatusMethodNotAllowed,
			detail: "admin.method_not_allowed", args: map[string]string{"allow": allow}})
	})
}

// unknownPath answers a path that is no operation of the API.
func (a *API) unknownPath() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.problem(w, r, &call{locale: a.locale(r)}, problem{status: http.StatusNotFound, detail: "admin.not_found"})
	})
}
