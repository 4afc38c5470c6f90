package provider

import (
	"context"

	"github.com/usher-idp/usher/storage"
)

// tokenRequest is what fosite's storage adapter learns during one request to
// the token endpoint that the endpoint acts on once fosite returns: which
// grant the request presented, which refresh token it rotated and which it
// issued, and, when it uses a rotated refresh token again within the grace
// period, the answer to give it again. Only the token endpoint carries one:
// elsewhere (introspection, revocation) a rotated refresh token is simply
// inactive.
type tokenRequest struct {
	grantID   string // request ID (the family) of the code or refresh token presented
	rotated   string // signature key of the refresh token this request rotated
	successor string // signature key of the refresh token this request issued
	// replay is the record of what the rotation of the presented refresh
	// token answered (KindSuccessor), when this request may have that
	// answer again.
	replay *storage.OAuth2Record
	// codeReplayed: the code presented was redeemed before, or by a
	// concurrent request. refreshReused: the refresh token presented was
	// rotated before and may not be used again.
	codeReplayed, refreshReused bool
}

type tokenRequestKey struct{}

// withTokenRequest returns ctx carrying a new tokenRequest, and the request.
func withTokenRequest(ctx context.Context) (context.Context, *tokenRequest) {
	tr := &tokenRequest{}
	return context.WithValue(ctx, tokenRequestKey{}, tr), tr
}

// tokenRequestFrom returns the tokenRequest ctx carries, or nil outside the
// token endpoint.
func tokenRequestFrom(ctx context.Context) *tokenRequest {
	tr, _ := ctx.Value(tokenRequestKey{}).(*tokenRequest)
	return tr
}
