package flows_test

import (
	"context"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/storage/storagetest"
	"github.com/usher-idp/usher/templates"
)

// fixture is a real store with the flows built the way cmd/usher builds them.
type fixture struct {
	ctx          context.Context
	clock        *storagetest.Clock
	store        *sqlstore.Store
	institutions *flows.Institutions
	accounts     *flows.Accounts
	invitations  *flows.Invitations
	hasher       *password.Hasher
}

// each runs fn on every database dialect.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		clock := storagetest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
		store := sqltest.Open(t, db, sqlstore.Options{Now: clock.Now})
		hasher, err := password.NewHasher(password.Config{})
		if err != nil {
			t.Fatal(err)
		}
		catalog, err := templates.NewCatalog()
		if err != nil {
			t.Fatal(err)
		}
		emails, err := templates.NewEmails(catalog)
		if err != nil {
			t.Fatal(err)
		}
		sealer, err := seal.New([]byte("the master secret of the flows tests, 32 bytes or more"), mail.SealPurpose)
		if err != nil {
			t.Fatal(err)
		}
		outbox, err := mail.NewOutbox(mail.OutboxConfig{In: func(id string) mail.InstitutionStore { return store.In(id) },
			Tx: store, Sealer: sealer, Emails: emails, From: "no-reply@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		accounts := &flows.Accounts{In: func(id string) flows.AccountsStore { return store.In(id) }, Tx: store,
			Hasher: hasher, Policy: password.NewChecker(), Now: clock.Now, Locales: catalog.Match, Mailer: outbox,
			PublicURL: "http://usher.test", ThrottleKey: []byte("throttle key of the tests")}
		fn(t, &fixture{
			ctx: context.Background(), clock: clock, store: store, hasher: hasher,
			institutions: &flows.Institutions{Store: store, Tx: store,
				In: func(id string) flows.InstitutionRecords { return store.In(id) }},
			accounts: accounts, invitations: &flows.Invitations{Accounts: accounts},
		})
	})
}

// sessions are the browser sessions and the sign-in state in them, over
// store, as cmd/usher wires them.
func sessions(store *sqlstore.Store, publicURL string, now func() time.Time) *flows.Sessions {
	browsers := &flows.BrowserSessions{In: func(id string) flows.SessionStore { return store.In(id) }, Tx: store,
		PublicURL: publicURL, Now: now}
	return &flows.Sessions{Browsers: browsers, Now: now}
}

func (f *fixture) institution(t *testing.T, slug string) *storage.Institution {
	t.Helper()
	inst, err := f.institutions.Create(f.ctx, slug, "Institution "+slug)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func problemIDs(err error) []string {
	var ids []string
	for _, p := range flows.Problems(err) {
		ids = append(ids, p.Field+":"+p.ID)
	}
	return ids
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
