package storage

import (
	"context"
	"time"
)

// AuditEvent records who did what to which account, when and from where.
type AuditEvent struct {
	ID            string    `db:"id"`
	InstitutionID string    `db:"institution_id"`
	AccountID     string    `db:"account_id"` // the account acted upon, "" if none
	Actor         string    `db:"actor"`      // "self", "operator:ID", "client:ID", "cli", "system"
	Action        string    `db:"action"`     // "sign_in", "sign_in_failed", "lockout", …
	Address       string    `db:"address"`    // source IP address, "" when not over HTTP
	Details       Details   `db:"details"`    // never secrets
	CreatedAt     time.Time `db:"created_at"`
}

// AuditFilter selects audit events. Zero fields select everything.
type AuditFilter struct {
	AccountID string
	Action    string
	Before    string // an event ID: list the events older than it (keyset paging); unknown: none
	Limit     int    // 0 means 100
}

// AuditStore keeps an institution's audit trail.
type AuditStore interface {
	// RecordAudit stores e; ID and CreatedAt are assigned.
	RecordAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}
