package provider_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// clientsEnv is a Clients over a real database with one institution.
type clientsEnv struct {
	ctx     context.Context
	store   *sqlstore.Store
	inst    *storage.Institution
	clients *provider.Clients
}

func eachClients(t *testing.T, fn func(t *testing.T, e *clientsEnv)) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := &clientsEnv{ctx: context.Background(), store: sqltest.Open(t, db, sqlstore.Options{})}
		e.inst = &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
		if err := e.store.CreateInstitution(e.ctx, e.inst); err != nil {
			t.Fatal(err)
		}
		var err error
		e.clients, err = provider.NewClients(provider.ClientsConfig{Transactor: e.store,
			In: func(id string) provider.ClientStore { return e.store.In(id) }})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, e)
	})
}

// shop registers a confidential shop client, by the command line.
func (e *clientsEnv) shop(t *testing.T) (*storage.Client, string) {
	t.Helper()
	c, secret, err := e.clients.Register(e.ctx, e.inst, provider.ClientSpec{Name: "Shop",
		RedirectURIs: []string{"https://shop.example/cb"}}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	return c, secret
}

// audit returns the institution's audit events of action.
func (e *clientsEnv) audit(t *testing.T, action string) []storage.AuditEvent {
	t.Helper()
	events, err := e.store.In(e.inst.ID).ListAudit(e.ctx, storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestClientsRegister(t *testing.T) {
	eachClients(t, func(t *testing.T, e *clientsEnv) {
		c, secret := e.shop(t)
		stored, err := e.store.In(e.inst.ID).GetClient(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.SecretHash != provider.HashClientSecret(secret) || stored.Name != "Shop" ||
			strings.Join(stored.GrantTypes, " ") != "authorization_code refresh_token" {
			t.Errorf("stored %+v", stored)
		}
		events := e.audit(t, "client_created")
		if len(events) != 1 || events[0].Actor != "cli" || events[0].Details["client_id"] != c.ID || len(events[0].Details) != 1 {
			t.Fatalf("audit events %+v", events)
		}
		for _, v := range events[0].Details {
			if strings.Contains(v, secret) || strings.Contains(v, "sha256$") {
				t.Error("the audit event holds the secret")
			}
		}
	})
}

func TestClientsRegisterRefuses(t *testing.T) {
	eachClients(t, func(t *testing.T, e *clientsEnv) {
		_, _, err := e.clients.Register(e.ctx, e.inst, provider.ClientSpec{Name: "Evil",
			RedirectURIs: []string{"javascript:alert(1)"}}, "cli")
		if !errors.Is(err, provider.ErrInvalidClient) || !strings.Contains(err.Error(), "reverse-domain") {
			t.Errorf("invalid spec: %v", err)
		}
		spec := provider.ClientSpec{ID: "shop", Name: "Shop", RedirectURIs: []string{"https://shop.example/cb"}}
		if _, _, err := e.clients.Register(e.ctx, e.inst, spec, "cli"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.clients.Register(e.ctx, e.inst, spec, "cli"); !errors.Is(err, storage.ErrDuplicate) {
			t.Errorf("taken ID: %v", err)
		}
		if list, _ := e.store.In(e.inst.ID).ListClients(e.ctx); len(list) != 1 {
			t.Errorf("%d clients stored, want 1", len(list))
		}
		if n := len(e.audit(t, "client_created")); n != 1 {
			t.Errorf("%d audit events, want 1: a refused registration records nothing", n)
		}
	})
}

func TestClientsEnsure(t *testing.T) {
	eachClients(t, func(t *testing.T, e *clientsEnv) {
		spec := provider.ClientSpec{ID: "demo-shop", Name: "Demo Shop", Secret: "first secret",
			RedirectURIs: []string{"http://localhost/cb"}}
		for range 2 { // the second time changes nothing
			if err := e.clients.Ensure(e.ctx, e.inst, spec, "system"); err != nil {
				t.Fatal(err)
			}
		}
		spec.Secret = "second secret" // the master secret changed
		if err := e.clients.Ensure(e.ctx, e.inst, spec, "system"); err != nil {
			t.Fatal(err)
		}
		c, err := e.store.In(e.inst.ID).GetClient(e.ctx, "demo-shop")
		if err != nil || c.SecretHash != provider.HashClientSecret("second secret") {
			t.Errorf("client %+v, %v: want the second secret", c, err)
		}
		if n, m := len(e.audit(t, "client_created")), len(e.audit(t, "client_secret_replaced")); n != 1 || m != 1 {
			t.Errorf("%d created and %d replaced events, want 1 and 1", n, m)
		}
		if err := e.clients.Ensure(e.ctx, e.inst, provider.ClientSpec{Name: "x"}, "system"); err == nil {
			t.Error("Ensure without an ID or a secret accepted")
		}
	})
}

func TestClientsDelete(t *testing.T) {
	eachClients(t, func(t *testing.T, e *clientsEnv) {
		c, _ := e.shop(t)
		if err := e.clients.Delete(e.ctx, e.inst, c.ID, "operator:op1"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.In(e.inst.ID).GetClient(e.ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted client still there: %v", err)
		}
		events := e.audit(t, "client_deleted")
		if len(events) != 1 || events[0].Actor != "operator:op1" || events[0].Details["client_id"] != c.ID {
			t.Errorf("audit events %+v", events)
		}
		if err := e.clients.Delete(e.ctx, e.inst, c.ID, "cli"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}
