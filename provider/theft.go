package provider

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/internal/metrics"
	"github.com/usher-idp/usher/storage"
)

// A theft is a sign that a code or a token was stolen: the legitimate client
// never presents one twice.
type theft struct {
	signal string // the metric's label
	action string // the audit event's action
	grant  string // the grant type the request used
}

var (
	theftCodeReplay   = theft{metrics.SignalCodeReplay, "code_replayed", "authorization_code"}
	theftRefreshReuse = theft{metrics.SignalRefreshReuse, "refresh_token_reused", "refresh_token"}
)

// signalTheft records a theft as an audit event of the grant's account
// (client, grant, address), a warning and a count. A failure to record is
// logged: the request is refused either way.
func (h *tokenHandler) signalTheft(r *http.Request, t *tenant, ar fosite.AccessRequester, th theft) {
	ctx := context.WithoutCancel(r.Context())
	clientID, subject := "", ""
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if ar != nil && ar.GetSession() != nil {
		subject = ar.GetSession().GetSubject() // the presented grant's, decoded into the request's session
	}
	address := httpserver.ClientIP(r)
	h.metrics.TheftSignal(th.signal)
	h.log.WarnContext(ctx, "theft signal", "signal", th.signal, "institution", t.inst.Slug,
		"client_id", clientID, "grant", th.grant, "address", address)
	err := t.records.RecordAudit(ctx, &storage.AuditEvent{AccountID: subject, Actor: "client:" + clientID,
		Action: th.action, Address: address, Details: storage.Details{"client_id": clientID, "grant": th.grant}})
	if err != nil {
		h.log.ErrorContext(ctx, "record a theft signal", "error", err)
	}
}

// revokeGrant ends every access and refresh token of a grant (the family of
// requestID), as a replay of its code requires: what revocation does
// (RevokeAccessToken, RevokeRefreshToken), even when the request has ended.
func (f *fositeStore) revokeGrant(ctx context.Context, requestID string) error {
	if requestID == "" {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	for _, revoke := range []func(context.Context, string) error{f.RevokeAccessToken, f.RevokeRefreshToken} {
		if err := revoke(ctx, requestID); err != nil {
			return fmt.Errorf("revoke the grant of a replayed code: %w", err)
		}
	}
	return nil
}
