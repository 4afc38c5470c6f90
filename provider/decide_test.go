package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/storage/storagetest"
)

// The authorization decision, on a real store: who is signed in, prompt,
// max_age and remembered consent.

// grantedAt is when the test's consents were given (whole microseconds, as
// stored); decisions are made an hour later.
var grantedAt = time.Date(2031, time.March, 14, 15, 0, 0, 0, time.UTC)

// decideEnv is an institution with a customer, an operator, a first-party
// and a third-party client, and the customer's consent to the third-party
// client for "openid" (partial) or "openid email" (full).
type decideEnv struct {
	ctx                 context.Context
	tenant              *tenant
	store               *sqlstore.Store
	instID              string
	customer, operator  *storage.Account
	firstParty, partner *storage.Client
	now                 time.Time
}

func newDecideEnv(t *testing.T, db sqltest.DB) *decideEnv {
	clock := storagetest.NewClock(grantedAt)
	store := sqltest.Open(t, db, sqlstore.Options{Now: clock.Now})
	ctx := context.Background()
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	must(t, store.CreateInstitution(ctx, inst))
	e := &decideEnv{ctx: ctx, store: store, instID: inst.ID, now: grantedAt.Add(time.Hour)}
	e.tenant = &tenant{inst: inst, records: store.In(inst.ID)}
	e.customer = e.account(t, storage.Customer, storage.Active, "carla@example.org")
	e.operator = e.account(t, storage.Operator, storage.Active, "otto@example.org")
	e.firstParty = e.client(t, ClientSpec{Name: "Shop", FirstParty: true})
	e.partner = e.client(t, ClientSpec{Name: "Partner"})
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *decideEnv) account(t *testing.T, kind storage.AccountKind, status storage.AccountStatus, email string) *storage.Account {
	t.Helper()
	a := &storage.Account{Kind: kind, Email: email, Status: status}
	must(t, e.store.In(e.instID).CreateAccount(e.ctx, a))
	return a
}

func (e *decideEnv) client(t *testing.T, spec ClientSpec) *storage.Client {
	t.Helper()
	spec.RedirectURIs = []string{"https://shop.example/cb"}
	c, _, err := newClient(spec)
	must(t, err)
	must(t, e.store.In(e.instID).CreateClient(e.ctx, c))
	return c
}

// decideCase is one authorization request, seen an hour after grantedAt.
type decideCase struct {
	name        string
	signedIn    bool          // the customer is signed in
	authAgo     time.Duration // how long ago the customer signed in
	requestAgo  time.Duration // how long ago the request started
	prompt      string
	maxAge      time.Duration // -1: none
	thirdParty  bool
	consent     string // the customer's remembered scopes ("" none)
	consentedAt time.Duration
	denied      bool   // back from the consent page with a no
	twoFactors  bool   // the client requires two-factor
	acrValues   string // the request's acr_values
	otp         bool   // the sign-in used a second factor
	want        authorizeState
	wantErr     *fosite.RFC6749Error
}

func TestDecide(t *testing.T) {
	const none = -1
	tests := []decideCase{
		{name: "nobody signed in", maxAge: none, want: needsLogin},
		{name: "nobody signed in, prompt=none", prompt: "none", maxAge: none, wantErr: fosite.ErrLoginRequired},
		{name: "signed in, first party", signedIn: true, authAgo: time.Minute, maxAge: none, want: ready},
		{name: "signed in, first party, prompt=none", signedIn: true, authAgo: time.Minute, prompt: "none", maxAge: none, want: ready},
		{name: "prompt=login, signed in before the request", signedIn: true, authAgo: time.Minute, prompt: "login", maxAge: none, want: needsLogin},
		{name: "prompt=login, signed in since the request started", signedIn: true, authAgo: time.Minute, requestAgo: 2 * time.Minute,
			prompt: "login", maxAge: none, want: ready},
		{name: "prompt=select_account, signed in before the request", signedIn: true, authAgo: time.Minute, prompt: "select_account",
			maxAge: none, want: needsLogin},
		{name: "prompt=select_account, signed in since", signedIn: true, authAgo: time.Minute, requestAgo: 2 * time.Minute,
			prompt: "select_account", maxAge: none, want: ready},
		{name: "max_age older than auth_time", signedIn: true, authAgo: 5 * time.Minute, maxAge: 10 * time.Minute, want: ready},
		{name: "max_age newer than auth_time", signedIn: true, authAgo: time.Hour, maxAge: 10 * time.Minute, want: needsLogin},
		{name: "max_age newer than auth_time, prompt=none", signedIn: true, authAgo: time.Hour, maxAge: 10 * time.Minute,
			prompt: "none", wantErr: fosite.ErrLoginRequired},
		{name: "max_age newer than auth_time, signed in since the request started", signedIn: true, authAgo: time.Hour,
			requestAgo: 2 * time.Hour, maxAge: 10 * time.Minute, want: ready},
		{name: "max_age=0, signed in before the request", signedIn: true, authAgo: time.Second, maxAge: 0, want: needsLogin},
		{name: "third party, no consent", signedIn: true, authAgo: time.Minute, maxAge: none, thirdParty: true, want: needsConsent},
		{name: "third party, no consent, prompt=none", signedIn: true, authAgo: time.Minute, maxAge: none, thirdParty: true,
			prompt: "none", wantErr: fosite.ErrConsentRequired},
		{name: "third party, consent denied", signedIn: true, authAgo: time.Minute, maxAge: none, thirdParty: true, denied: true,
			wantErr: fosite.ErrAccessDenied},
		{name: "third party, consent denied, prompt=none", signedIn: true, authAgo: time.Minute, maxAge: none, thirdParty: true,
			denied: true, prompt: "none", wantErr: fosite.ErrAccessDenied},
		{name: "third party, consent remembered", signedIn: true, authAgo: time.Minute, maxAge: none, thirdParty: true,
			consent: "openid email", consentedAt: time.Hour, want: ready},
		{name: "third party, consent missing a scope", signedIn: true, authAgo: time.Minute, maxAge: none, thirdParty: true,
			consent: "openid", consentedAt: time.Hour, want: needsConsent},
		{name: "third party, prompt=consent, consent from before the request", signedIn: true, authAgo: time.Minute, maxAge: none,
			thirdParty: true, consent: "openid email", consentedAt: time.Hour, prompt: "consent", want: needsConsent},
		{name: "third party, prompt=consent, consent given since the request started", signedIn: true, authAgo: time.Minute,
			requestAgo: 2 * time.Hour, maxAge: none, thirdParty: true, consent: "openid email", consentedAt: time.Hour,
			prompt: "consent", want: ready},
		{name: "first party, prompt=consent", signedIn: true, authAgo: time.Minute, maxAge: none, prompt: "consent", want: ready},
		{name: "third party, prompt=login and no consent", signedIn: true, authAgo: time.Minute, requestAgo: 2 * time.Minute,
			prompt: "login", maxAge: none, thirdParty: true, want: needsConsent},
		{name: "client requires two-factor, password only", signedIn: true, authAgo: time.Minute, maxAge: none, twoFactors: true,
			want: needsSecondFactor},
		{name: "client requires two-factor, password only, prompt=none", signedIn: true, authAgo: time.Minute, maxAge: none,
			twoFactors: true, prompt: "none", wantErr: fosite.ErrInteractionRequired},
		{name: "client requires two-factor, both used", signedIn: true, authAgo: time.Minute, maxAge: none, twoFactors: true,
			otp: true, want: ready},
		{name: "nobody signed in at a client requiring two-factor", maxAge: none, twoFactors: true, want: needsLogin},
		{name: "acr_values=2, password only", signedIn: true, authAgo: time.Minute, maxAge: none, acrValues: "2",
			want: needsSecondFactor},
		{name: "acr_values=1 2, password only", signedIn: true, authAgo: time.Minute, maxAge: none, acrValues: "1 2", want: ready},
		{name: "acr_values=2, both used, third party without consent", signedIn: true, authAgo: time.Minute, maxAge: none,
			acrValues: "2", otp: true, thirdParty: true, want: needsConsent},
	}
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newDecideEnv(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := e.authorization(t, tt)
				state, err := a.decide(e.ctx, e.now)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("decide = %v, %v; want %s", state, err, tt.wantErr.ErrorField)
					}
					return
				}
				if err != nil || state != tt.want {
					t.Fatalf("decide = %v, %v; want %v", state, err, tt.want)
				}
			})
		}
	})
}

// authorization builds the request of tt, with the customer's consent as tt
// says (granted consentedAt before e.now).
func (e *decideEnv) authorization(t *testing.T, tt decideCase) *authorization {
	t.Helper()
	client := e.firstParty
	if tt.thirdParty {
		client = e.partner
	}
	if tt.twoFactors {
		strict := *client
		strict.RequireTwoFactor = true
		client = &strict
	}
	must(t, e.store.In(e.instID).RevokeConsent(e.ctx, e.customer.ID, e.partner.ID))
	if tt.consent != "" {
		if tt.consentedAt != time.Hour {
			t.Fatal("the clock grants consent at grantedAt, an hour before now")
		}
		must(t, e.store.In(e.instID).GrantConsent(e.ctx, e.customer.ID, e.partner.ID, strings.Fields(tt.consent)))
	}
	ar := fosite.NewAuthorizeRequest()
	ar.Form.Set("client_id", client.ID) // fosite's request comes with an empty form
	ar.Form.Set("scope", "openid email")
	if tt.denied {
		ar.Form.Set(issuer.ConsentDeniedParam, issuer.ConsentDeniedValue)
	}
	if tt.acrValues != "" {
		ar.Form.Set("acr_values", tt.acrValues)
	}
	ar.RequestedScope = fosite.Arguments{"openid", "email"}
	a := &authorization{t: e.tenant, ar: ar, client: client, requestedAt: e.now.Add(-tt.requestAgo),
		prompt: strings.Fields(tt.prompt), maxAge: tt.maxAge}
	if tt.signedIn {
		auth := e.now.Add(-tt.authAgo)
		a.browser = &issuer.SignedIn{SessionID: "s1", AccountID: e.customer.ID, AuthTime: auth, Methods: []string{"pwd"}}
		if tt.otp {
			a.browser.Methods = []string{"pwd", "otp"}
		}
		a.account = e.customer
	}
	return a
}

// sessionsOf is the browser sessions of a test: this browser's, whoever
// asks.
type sessionsOf struct{ bs *issuer.SignedIn }

func (s sessionsOf) Authenticated(*http.Request, *storage.Institution) (*issuer.SignedIn, error) {
	return s.bs, nil
}

func (sessionsOf) SignOut(http.ResponseWriter, *http.Request, *storage.Institution) error { return nil }

// findSignedIn keeps only an active account of the kind the client accepts;
// anyone else counts as nobody, so the request goes to the sign-in page.
func TestFindSignedIn(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		e := newDecideEnv(t, db)
		disabled := e.account(t, storage.Customer, storage.Disabled, "gone@example.org")
		auth := e.now.Add(-time.Minute)
		session := func(accountID string) *issuer.SignedIn {
			return &issuer.SignedIn{SessionID: "s1", AccountID: accountID, AuthTime: auth, Methods: []string{"pwd"}}
		}
		for _, tt := range []struct {
			name string
			bs   *issuer.SignedIn
			want *storage.Account
		}{
			{"no session", nil, nil},
			{"a customer, at a customers' client", session(e.customer.ID), e.customer},
			{"an operator, at a customers' client", session(e.operator.ID), nil},
			{"a disabled customer", session(disabled.ID), nil},
			{"an account that no longer exists", session("01J9ZQ5V8M3X7K2N4P6R8T0W1Y"), nil},
			{"a session without an account", &issuer.SignedIn{SessionID: "s1"}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				h := &authorizeHandler{sessions: sessionsOf{tt.bs}}
				a := e.authorization(t, decideCase{maxAge: -1})
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				must(t, h.findSignedIn(e.ctx, r, a))
				if (a.account == nil) != (tt.want == nil) || (a.account != nil && a.account.ID != tt.want.ID) {
					t.Fatalf("signed in: %+v, want %+v", a.account, tt.want)
				}
				if tt.want == nil {
					if state, err := a.decide(e.ctx, e.now); err != nil || state != needsLogin {
						t.Errorf("decide = %v, %v; want needsLogin", state, err)
					}
				}
			})
		}
	})
}
