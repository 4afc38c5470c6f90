package provider

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ory/fosite"
)

// protocolParams are the parameters that must not be repeated in a request
// (RFC 6749 §3.1, §3.2): which value would count is ambiguous, so the
// request is refused.
var protocolParams = []string{
	"client_id", "client_secret", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
	"prompt", "max_age", "login_hint", "id_token_hint", "acr_values", "ui_locales", "code_challenge",
	"code_challenge_method", "code", "code_verifier", "grant_type", "refresh_token", "token", "token_type_hint",
	"request", "request_uri", "post_logout_redirect_uri",
}

// destinationParams decide where an authorization response goes: repeated,
// no response can be redirected.
var destinationParams = []string{"client_id", "redirect_uri", "response_type", "response_mode"}

// repeatedParam returns the first of params given more than once in form,
// or "".
func repeatedParam(form url.Values, params ...string) string {
	for _, p := range params {
		if len(form[p]) > 1 {
			return p
		}
	}
	return ""
}

// formTooLarge parses the query and the form body of a request and reports
// whether the body is over the size limit (http.MaxBytesError).
func formTooLarge(r *http.Request) bool {
	var mbe *http.MaxBytesError
	return errors.As(r.ParseForm(), &mbe)
}

// bearerToken returns the access token of a request: "Bearer" and the token
// in the Authorization header (any amount of space between them), or, for
// a form POST, the access_token parameter.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(token)
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("access_token")
		}
	}
	return ""
}

// twoClientAuthentications reports whether a request authenticates a client
// twice (HTTP Basic and a client_secret in the body), which RFC 6749 §2.3
// forbids, or names two clients.
func twoClientAuthentications(r *http.Request) bool {
	id, _, basic := r.BasicAuth()
	if !basic {
		return false
	}
	if r.PostForm.Get("client_secret") != "" {
		return true
	}
	other := r.PostForm.Get("client_id")
	if decoded, err := url.QueryUnescape(id); err == nil {
		id = decoded
	}
	return other != "" && other != id
}

// errRepeated refuses a request with a repeated parameter.
func errRepeated(param string) error {
	return fosite.ErrInvalidRequest.WithHintf("The '%s' parameter must not be repeated.", param)
}
