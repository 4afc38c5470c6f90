package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/storage"
)

// Every error of the API is an RFC 9457 problem (application/problem+json):
// type, title, status, detail in the caller's language, and for refused
// input, errors listing every problem at once: the field (a JSON member,
// "password_policy.min_length" for a nested one, a query parameter), the
// message id of the catalogue and its text. Nothing of a cause (a database
// error, a stack) ever reaches the answer: it goes to the log.

// problemTypes are the URIs of the problems that say more than their status.
const problemTypes = "https://usher-idp.github.io/problems/"

// The problem types beyond the status: type name → title.
var problemTitles = map[string]string{
	"invalid-input":       "The request has invalid input",
	"account-state":       "The account's state does not allow this",
	"manual-password-off": "Operators may not set passwords in this institution",
	"no-point-of-sale":    "The institution has no point of sale",
	"conflict":            "The request conflicts with the institution's records",
}

// problem is one problem to answer: status, type ("" for about:blank),
// the message id of its detail with its values, and the refused input.
type problem struct {
	status int
	kind   string
	detail string
	args   map[string]string
	errors []flows.Problem
}

// problemBody is the problem as JSON.
type problemBody struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors,omitempty"`
}

// fieldError is one refused part of the input.
type fieldError struct {
	Field     string `json:"field"`
	MessageID string `json:"message_id"`
	Message   string `json:"message"`
}

// problem writes p in the call's language.
func (a *API) problem(w http.ResponseWriter, r *http.Request, c *call, p problem) {
	body := problemBody{Type: "about:blank", Title: http.StatusText(p.status), Status: p.status,
		Detail: a.catalog.Message(c.locale, p.detail, p.args)}
	if p.kind != "" {
		body.Type, body.Title = problemTypes+p.kind, problemTitles[p.kind]
	}
	for _, e := range p.errors {
		body.Errors = append(body.Errors, fieldError{Field: e.Field, MessageID: e.ID, Message: a.catalog.Message(c.locale, e.ID, e.Args)})
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", c.locale)
	w.WriteHeader(p.status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(body) // the client may be gone: nothing to do about it
	}
}

// invalid answers refused input: 400 with every problem.
func (a *API) invalid(w http.ResponseWriter, r *http.Request, c *call, problems []flows.Problem) {
	a.problem(w, r, c, problem{status: http.StatusBadRequest, kind: "invalid-input", detail: "admin.invalid_input",
		errors: problems})
}

// fail answers the error of a service of flows: refused input, input in
// conflict with a record (a taken key), a state or a setting that does not
// allow the change, an unknown account, a record changed meanwhile;
// anything else is logged and answered 500 without its cause.
func (a *API) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	var state *flows.StateError
	var conflict *flows.ConflictError
	switch {
	case errors.As(err, &conflict):
		a.problem(w, r, c, problem{status: http.StatusConflict, kind: "conflict", detail: "admin.conflict",
			errors: conflict.Problems})
	case flows.Problems(err) != nil:
		a.invalid(w, r, c, flows.Problems(err))
	case errors.As(err, &state):
		a.problem(w, r, c, problem{status: http.StatusConflict, kind: "account-state", detail: state.ID})
	case errors.Is(err, flows.ErrManualPasswordOff):
		a.problem(w, r, c, problem{status: http.StatusForbidden, kind: "manual-password-off", detail: "admin.manual_password_off"})
	case errors.Is(err, flows.ErrNoPointOfSale):
		a.problem(w, r, c, problem{status: http.StatusConflict, kind: "no-point-of-sale", detail: "admin.no_point_of_sale"})
	case errors.Is(err, storage.ErrNotFound):
		a.problem(w, r, c, problem{status: http.StatusNotFound, detail: "admin.account_not_found"})
	case errors.Is(err, storage.ErrConflict):
		a.problem(w, r, c, problem{status: http.StatusConflict, detail: "admin.changed_meanwhile"})
	case errors.Is(err, storage.ErrInvalidText):
		a.invalid(w, r, c, []flows.Problem{{ID: "admin.text_invalid"}})
	case errors.Is(err, storage.ErrUnavailable):
		// The database did not answer: the store logs the outage, once.
		httpserver.Unavailable(w, r)
		a.problem(w, r, c, problem{status: http.StatusServiceUnavailable, detail: "admin.unavailable"})
	default:
		slug := ""
		if c.inst != nil {
			slug = c.inst.Slug
		}
		a.log.ErrorContext(r.Context(), "admin API", "institution", slug, "method", r.Method, "path", r.URL.Path, "err", err)
		a.problem(w, r, c, problem{status: http.StatusInternalServerError, detail: "admin.internal"})
	}
}

// renameFields gives the problems of err the API's names of their fields
// (names maps the flows' names to the API's); the error stays refused
// input, or a conflict.
func renameFields(err error, names map[string]string) error {
	problems := flows.Problems(err)
	if problems == nil {
		return err
	}
	renamed := make([]flows.Problem, len(problems))
	for i, p := range problems {
		if name, ok := names[p.Field]; ok {
			p.Field = name
		}
		renamed[i] = p
	}
	var conflict *flows.ConflictError
	if errors.As(err, &conflict) {
		return &flows.ConflictError{Problems: renamed}
	}
	return &flows.InvalidError{Problems: renamed}
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(v)
	}
}
