package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// Requests that are not wrong enough to be dangerous, but that the RFCs
// forbid, are refused rather than half understood.
func TestStrictRequests(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newHostile(t, db)
		authorize := e.u.issuer + "/oauth2/authorize"
		token := e.u.issuer + "/oauth2/token"

		// A repeated client_id or redirect_uri: no redirect anywhere.
		for _, p := range []string{"client_id", "redirect_uri", "response_type"} {
			q := e.authorizeQuery()
			q.Add(p, q.Get(p))
			r := hsDo(t, nil, http.MethodGet, authorize+"?"+q.Encode(), "")
			hsExpect(t, "authorize with "+p+" twice", r, http.StatusBadRequest, hsHTML)
			if r.header.Get("Location") != "" {
				t.Errorf("authorize with %s twice redirected to %q", p, r.header.Get("Location"))
			}
		}
		// Any other repeated parameter: an invalid_request redirect.
		q := e.authorizeQuery()
		q.Add("state", "other")
		r := hsDo(t, nil, http.MethodGet, authorize+"?"+q.Encode(), "")
		if loc, _ := url.Parse(r.header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("authorize with state twice: %v", r)
		}

		// A request too long to resume after the sign-in is refused at once,
		// not lost after the password.
		q = e.authorizeQuery()
		q.Set("state", strings.Repeat("s", 5000))
		r = hsDo(t, nil, http.MethodGet, authorize+"?"+q.Encode(), "")
		loc, _ := url.Parse(r.header.Get("Location"))
		if loc == nil || !strings.HasPrefix(loc.String(), testRedirectURI) || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("a 5 KB state: %v", r)
		}

		// A POST authorization request over the body limit: 413.
		r = hsDo(t, nil, http.MethodPost, authorize, "state="+strings.Repeat("s", 70<<10), hsForm)
		hsExpect(t, "a 70 KiB authorization POST", r, http.StatusRequestEntityTooLarge, hsHTML)

		// Token endpoint: repeated parameters, two client authentications.
		code, verifier := e.code()
		base := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirectURI},
			"code_verifier": {verifier}}
		for _, c := range []struct {
			name string
			body url.Values
			auth string
		}{
			{"code twice", with(base, "code", code), hsBasic(e.shopID, e.shopSecret)},
			{"redirect_uri twice", with(base, "redirect_uri", testRedirectURI), hsBasic(e.shopID, e.shopSecret)},
			{"Basic and client_secret_post", with(with(base, "client_id", e.thirdID), "client_secret", e.thirdSecret),
				hsBasic(e.shopID, e.shopSecret)},
		} {
			r := hsDo(t, nil, http.MethodPost, token, c.body.Encode(), hsForm, c.auth)
			hsExpect(t, c.name, r, http.StatusBadRequest, hsJSON)
			if got := r.json(t)["error"]; got != "invalid_request" {
				t.Errorf("%s: error %v, want invalid_request", c.name, got)
			}
		}
		// The code was not spent by the refused requests.
		r = hsDo(t, nil, http.MethodPost, token, base.Encode(), hsForm, hsBasic(e.shopID, e.shopSecret))
		hsExpect(t, "the code after refused attempts", r, http.StatusOK, hsJSON)
		at, _ := r.json(t)["access_token"].(string)

		// Bearer with more than one space (RFC 7235 allows it).
		r = hsDo(t, nil, http.MethodGet, e.u.issuer+"/oauth2/userinfo", "", "Authorization: Bearer   "+at)
		hsExpect(t, "userinfo with spaces after Bearer", r, http.StatusOK, hsJSON)
	})
}

// with returns a copy of v with value added to key.
func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Add(key, value)
	return out
}
