package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// call is one request to the API: its institution, who calls (nil for the
// routes without a token), and the language of its problems.
type call struct {
	inst   *storage.Institution
	caller *issuer.Caller
	locale string
}

// actor is who the audit trail names for a change the call makes: the
// operator whose token it is, or the client itself.
func (c *call) actor() flows.Actor {
	if c.caller.Kind == issuer.CallerOperator {
		return flows.OperatorActor(c.caller.Subject)
	}
	return flows.ClientActor(c.caller.ClientID)
}

// recordRead records in the audit trail what the call read (DESIGN: every
// call of the API is an audit event; a change records its own). When the
// event cannot be stored, the call fails and nothing is answered: a read
// the trail would miss is not served.
func (a *API) recordRead(w http.ResponseWriter, r *http.Request, c *call, accountID, action string,
	details storage.Details) bool {
	if err := a.accounts.RecordRead(r.Context(), c.inst, accountID, action, c.actor(), httpserver.ClientIP(r),
		details); err != nil {
		a.fail(w, r, c, err)
		return false
	}
	return true
}

// handler serves one operation of a call whose institution and caller are
// known.
type handler func(w http.ResponseWriter, r *http.Request, c *call)

// serve resolves the institution of the path (404 problem when there is
// none), checks the bearer token and its scopes (401, 403), then hands the
// call to the route's handler. No answer of the API is cached.
func (a *API) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c := &call{locale: a.locale(r)}
		inst, err := a.institutions.GetInstitutionBySlug(r.Context(), r.PathValue("slug"))
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidText) {
			a.problem(w, r, c, problem{status: http.StatusNotFound, detail: "admin.not_found"})
			return
		}
		if err != nil {
			a.fail(w, r, c, err)
			return
		}
		c.inst = inst
		if rt.scopes != nil && !a.authenticate(w, r, c, rt.scopes) {
			return
		}
		rt.serve(w, r, c)
	}
}

// authenticate finds the caller of the bearer token (RFC 6750) and checks
// that it holds one of the scopes; otherwise it answers 401 or 403, with
// the challenge, and returns false.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request, c *call, scopes []string) bool {
	realm := `Bearer realm="` + issuer.URL(a.publicURL, c.inst.Slug) + `"`
	token, ok := bearerToken(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", realm)
		a.problem(w, r, c, problem{status: http.StatusUnauthorized, detail: "admin.unauthorized"})
		return false
	}
	caller, err := a.tokens.Verify(r.Context(), c.inst, token)
	if errors.Is(err, issuer.ErrInvalidToken) {
		w.Header().Set("WWW-Authenticate", realm+`, error="invalid_token"`)
		a.problem(w, r, c, problem{status: http.StatusUnauthorized, detail: "admin.invalid_token"})
		return false
	}
	if err != nil {
		a.fail(w, r, c, err)
		return false
	}
	for _, s := range scopes {
		if slices.Contains(caller.Scopes, s) {
			c.caller = caller
			return true
		}
	}
	need := strings.Join(scopes, " ")
	w.Header().Set("WWW-Authenticate", realm+`, error="insufficient_scope", scope="`+need+`"`)
	a.problem(w, r, c, problem{status: http.StatusForbidden, detail: "admin.insufficient_scope",
		args: map[string]string{"scope": strings.Join(scopes, " or ")}})
	return false
}

// bearerToken is the token of an "Authorization: Bearer" header (the
// scheme in any case), and whether there is one.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// locale is the language of the call's problems: the Accept-Language
// header's, else English.
func (a *API) locale(r *http.Request) string {
	return a.catalog.Negotiate(r.Header.Get("Accept-Language"))
}
