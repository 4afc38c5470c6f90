package main

import (
	"net/url"
	"testing"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// An authorization request whose redirect_uri is not exactly a registered
// one, or whose client is unknown, is never redirected: an error page. Once
// the redirect URI is trusted, errors go back to the client.
func TestE2ERedirectURI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		u := startUsher(t, db)
		id, _ := u.shop()
		u.account(u.inst, storage.Customer, "ann@example.org")
		f := newFlow()

		for _, redirect := range []string{
			"https://evil.example/callback",
			testRedirectURI + "/extra",
			testRedirectURI + "?x=1",
			testRedirectURI + "/",
			"http://shop.example/callback",
			"https://shop.example:8443/callback",
			"https://SHOP.example/callback",
			"https://shop.example/Callback",
			"https://shop.example/callback#frag",
		} {
			resp, body := rawGet(t, u.authorizeURL(authParams(id, f, url.Values{"redirect_uri": {redirect}})))
			wantErrorPage(t, "redirect_uri "+redirect, resp, body)
		}
		// An unregistered redirect URI with other errors too: still a page.
		resp, body := rawGet(t, u.authorizeURL(authParams(id, f, url.Values{"redirect_uri": {"https://evil.example/cb"},
			"response_type": {"token"}, "scope": {"openid admin"}})))
		wantErrorPage(t, "unregistered redirect URI and other errors", resp, body)

		resp, body = rawGet(t, u.authorizeURL(authParams("no-such-client", f, nil)))
		wantErrorPage(t, "unknown client_id", resp, body)
		resp, body = rawGet(t, u.authorizeURL(authParams("", f, url.Values{"client_id": {""}})))
		wantErrorPage(t, "no client_id", resp, body)

		// A trusted redirect URI: errors are redirected, with state and iss.
		b := newBrowser(t)
		wantRedirectedError(t, u, b, "no response_type", authParams(id, f, url.Values{"response_type": {""}}),
			"unsupported_response_type")
		wantRedirectedError(t, u, b, "response_type=token", authParams(id, f, url.Values{"response_type": {"token"}}),
			"unsupported_response_type")
		wantRedirectedError(t, u, b, "response_type=code id_token",
			authParams(id, f, url.Values{"response_type": {"code id_token"}}), "unsupported_response_type")
		wantRedirectedError(t, u, b, "unregistered scope", authParams(id, f, url.Values{"scope": {"openid admin"}}),
			"invalid_scope")
	})
}
