package provider

import (
	"slices"
	"testing"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/storage"
)

// Who may hold which scopes: the admin API's scopes go to operators and to
// clients' own grants, never to a customer, whatever was asked.
func TestScopesTheHolderMayHold(t *testing.T) {
	asked := []string{"openid", "email", "accounts:read", "accounts:write", "clients:write", "settings:write", "tickets:read"}
	ordinary := []string{"openid", "email", "tickets:read"}
	tests := []struct {
		name string
		acct *storage.Account
		want []string
	}{
		{"customer", &storage.Account{Kind: storage.Customer}, ordinary},
		{"operator", &storage.Account{Kind: storage.Operator}, asked},
		{"the client itself", nil, asked},
		{"account of no known kind", &storage.Account{Kind: "admin"}, ordinary},
	}
	for _, tt := range tests {
		if got := heldScopes(tt.acct, asked); !slices.Equal(got, tt.want) {
			t.Errorf("%s: holds %v, want %v", tt.name, got, tt.want)
		}
		ar := fosite.NewAuthorizeRequest()
		ar.SetRequestedScopes(asked)
		if tt.acct != nil {
			grantScopes(ar, tt.acct)
			if got := []string(ar.GetGrantedScopes()); !slices.Equal(got, tt.want) {
				t.Errorf("%s: code granted %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}
