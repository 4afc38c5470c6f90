package keys_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/usher-idp/usher/provider/keys"
)

func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	each(t, func(e *env) {
		e.ensure()
		must(t, "rotate", keys.Rotate(e.ctx, e.store, e.sealer, e.inst, time.Hour, e.clock.Now()))
		set := e.load()
		jwks := set.JWKS()
		if len(jwks.Keys) != 6 {
			t.Fatalf("%d published keys, want 6 (current, next, retired × 2)", len(jwks.Keys))
		}
		if jwks.Keys[0].KeyID != current(t, set, keys.RS256) || jwks.Keys[1].KeyID != current(t, set, keys.ES256) {
			t.Error("the current keys are not published first, RS256 before ES256")
		}
		seen := map[string]bool{}
		for _, k := range jwks.Keys {
			sum, err := k.Thumbprint(crypto.SHA256)
			must(t, "thumbprint", err)
			if k.KeyID == "" || seen[k.KeyID] || k.KeyID != base64.RawURLEncoding.EncodeToString(sum) {
				t.Errorf("kid %q: empty, repeated or not the RFC 7638 thumbprint", k.KeyID)
			}
			seen[k.KeyID] = true
			if k.Use != "sig" || (k.Algorithm != keys.RS256 && k.Algorithm != keys.ES256) || !k.IsPublic() {
				t.Errorf("key %s: use %q, alg %q, public %v", k.KeyID, k.Use, k.Algorithm, k.IsPublic())
			}
		}
		raw, err := json.Marshal(jwks)
		must(t, "marshal", err)
		var doc struct{ Keys []map[string]any }
		must(t, "unmarshal", json.Unmarshal(raw, &doc))
		for _, k := range doc.Keys {
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("published key %v has private member %q", k["kid"], private)
				}
			}
			if k["kid"] == "" || k["use"] != "sig" || k["alg"] == nil {
				t.Errorf("published key lacks kid, use or alg: %v", k)
			}
		}
		jwks.Keys[0].KeyID = "changed"
		if set.JWKS().Keys[0].KeyID == "changed" {
			t.Error("changing a returned JWKS changed the set")
		}
	})
}
