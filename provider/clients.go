package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/usher-idp/usher/storage"
)

// ClientStore is what client registration uses of one institution's records.
type ClientStore interface {
	CreateClient(ctx context.Context, c *storage.Client) error
	GetClient(ctx context.Context, id string) (*storage.Client, error)
	UpdateClient(ctx context.Context, c *storage.Client) error
	DeleteClient(ctx context.Context, id string) error
	RecordAudit(ctx context.Context, e *storage.AuditEvent) error
}

// ClientsConfig configures Clients.
type ClientsConfig struct {
	Transactor storage.Transactor
	// In returns the view of one institution's records.
	In func(institutionID string) ClientStore
}

// Clients registers the relying applications of institutions: the one way a
// client is created (the command line, the demo, the admin API), each
// change stored together with its audit event.
type Clients struct {
	tx storage.Transactor
	in func(institutionID string) ClientStore
}

// NewClients checks cfg and returns a Clients.
func NewClients(cfg ClientsConfig) (*Clients, error) {
	if cfg.Transactor == nil || cfg.In == nil {
		return nil, errors.New("provider: clients: Transactor and In are required")
	}
	return &Clients{tx: cfg.Transactor, in: cfg.In}, nil
}

// Register validates spec, completes it with the defaults, and stores the
// client in inst with an audit event naming actor ("cli", "operator:ID", …).
// It returns the client and its secret, to show once ("" for a public
// client). A refused spec is ErrInvalidClient, listing every problem;
// storage.ErrDuplicate when spec.ID is taken.
func (x *Clients) Register(ctx context.Context, inst *storage.Institution, spec ClientSpec, actor string) (*storage.Client, string, error) {
	c, secret, err := newClient(spec)
	if err != nil {
		return nil, "", err
	}
	err = x.tx.InTx(ctx, func(ctx context.Context) error {
		return x.create(ctx, x.in(inst.ID), c, actor)
	})
	if err != nil {
		return nil, "", fmt.Errorf("register client: %w", err)
	}
	return c, secret, nil
}

func (x *Clients) create(ctx context.Context, s ClientStore, c *storage.Client, actor string) error {
	if err := s.CreateClient(ctx, c); err != nil {
		return err
	}
	return record(ctx, s, actor, "client_created", c.ID)
}

// Ensure registers the client spec describes unless a client with its ID
// exists, and otherwise brings the stored secret in line with spec.Secret
// (the demo's clients, whose secrets derive from the master secret). spec.ID
// and, for a confidential client, spec.Secret must be set.
func (x *Clients) Ensure(ctx context.Context, inst *storage.Institution, spec ClientSpec, actor string) error {
	if spec.ID == "" || (spec.Secret == "" && !spec.Public) {
		return errors.New("provider: ensure client: the ID and the secret must be given")
	}
	want, _, err := newClient(spec)
	if err != nil {
		return err
	}
	err = x.tx.InTx(ctx, func(ctx context.Context) error {
		s := x.in(inst.ID)
		have, err := s.GetClient(ctx, want.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return x.create(ctx, s, want, actor)
		case err != nil || have.SecretHash == want.SecretHash:
			return err
		}
		have.SecretHash = want.SecretHash
		if err := s.UpdateClient(ctx, have); err != nil {
			return err
		}
		return record(ctx, s, actor, "client_secret_replaced", have.ID)
	})
	if err != nil {
		return fmt.Errorf("ensure client %s: %w", spec.ID, err)
	}
	return nil
}

// Delete removes a client of inst (its grants end with it), with an audit
// event naming actor; storage.ErrNotFound when there is no such client.
func (x *Clients) Delete(ctx context.Context, inst *storage.Institution, id, actor string) error {
	return x.tx.InTx(ctx, func(ctx context.Context) error {
		s := x.in(inst.ID)
		if err := s.DeleteClient(ctx, id); err != nil {
			return err
		}
		return record(ctx, s, actor, "client_deleted", id)
	})
}

// record adds a change of a client to the audit trail (never its secret).
func record(ctx context.Context, s ClientStore, actor, action, clientID string) error {
	return s.RecordAudit(ctx, &storage.AuditEvent{Actor: actor, Action: action,
		Details: storage.Details{"client_id": clientID}})
}
