package flows

import (
	"context"
	"net/http"

	"github.com/usher-idp/usher/internal/httpserver"
	"github.com/usher-idp/usher/storage"
)

// audit records an event about an account, done by its holder from the
// request's address.
func audit(ctx context.Context, s auditRecorder, r *http.Request, accountID, action string, details storage.Details) error {
	return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: accountID, Actor: string(ActorSelf),
		Action: action, Address: clientIP(r), Details: details})
}

// clientIP is the IP address of the request's client: behind trusted
// proxies, the one their X-Forwarded-For gives (cmd/usher runs
// httpserver.ClientAddress around every route).
func clientIP(r *http.Request) string { return httpserver.ClientIP(r) }
