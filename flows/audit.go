package flows

import (
	"context"
	"net"
	"net/http"

	"github.com/usher-idp/usher/storage"
)

// audit records an event about an account, done by its holder from the
// request's address.
func audit(ctx context.Context, s auditRecorder, r *http.Request, accountID, action string, details storage.Details) error {
	return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: accountID, Actor: string(ActorSelf),
		Action: action, Address: clientIP(r), Details: details})
}

// clientIP is the IP address of the request's client.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
