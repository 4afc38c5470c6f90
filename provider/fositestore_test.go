package provider

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usher-idp/usher/storage"
)

// fosite redeems a code only under the token endpoint's pending write,
// which writes the redemption with the tokens; anywhere else it is refused
// and nothing is written (keptRecords panics on any other store call).
func TestCodeRedeemedOnlyWithThePendingWrite(t *testing.T) {
	f := newFositeStore(&keptRecords{}, nil, Lifespans{}.withDefaults(), time.Now, nil)
	if err := f.InvalidateAuthorizeCodeSession(context.Background(), "sig"); !errors.Is(err, errNotPending) {
		t.Errorf("outside a pending write: %v, want errNotPending", err)
	}
	ctx, p := withPending(context.Background())
	if err := f.InvalidateAuthorizeCodeSession(ctx, "sig"); err != nil {
		t.Fatal(err)
	}
	want := redemption{kind: storage.KindCode, key: signatureKey("sig")}
	if p.redeem == nil || *p.redeem != want {
		t.Errorf("pending redemption %+v, want %+v", p.redeem, want)
	}
}
