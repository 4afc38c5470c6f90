package provider

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
)

// authorizeState is where an authorization request stands.
type authorizeState int

const (
	needsLogin        authorizeState = iota // nobody suitable is signed in, or the sign-in is too old
	needsSecondFactor                       // two factors are required and the sign-in used one
	needsConsent                            // a third-party client lacks consent for a requested scope
	ready                                   // issue the code
)

// authorization is one authorization request being decided.
type authorization struct {
	t           *tenant
	ar          fosite.AuthorizeRequester
	client      *storage.Client
	requestedAt time.Time
	prompt      []string
	maxAge      time.Duration // -1 when absent
	browser     *issuer.SignedIn
	account     *storage.Account
}

func (a *authorization) has(prompt string) bool { return slices.Contains(a.prompt, prompt) }

// decide returns the next state of the request, or the error to answer.
func (a *authorization) decide(ctx context.Context, now time.Time) (authorizeState, error) {
	if a.loginNeeded(now) {
		if a.has("none") {
			return 0, fosite.ErrLoginRequired
		}
		return needsLogin, nil
	}
	if a.secondFactorNeeded() {
		if a.has("none") {
			return 0, fosite.ErrInteractionRequired.WithHint("The user must give a second factor.")
		}
		return needsSecondFactor, nil
	}
	need, err := a.consentNeeded(ctx)
	if err != nil || !need {
		return ready, err
	}
	switch {
	case a.ar.GetRequestForm().Get(issuer.ConsentDeniedParam) == issuer.ConsentDeniedValue:
		return 0, fosite.ErrAccessDenied.WithHint("The user did not allow the application access.")
	case a.has("none"):
		return 0, fosite.ErrConsentRequired
	}
	return needsConsent, nil
}

// loginNeeded: nobody suitable is signed in, or the request asks for a newer
// sign-in than the session's (prompt=login, max_age) and none happened since
// the request started.
func (a *authorization) loginNeeded(now time.Time) bool {
	if a.account == nil {
		return true
	}
	auth := a.browser.AuthTime
	signedInSince := !auth.Before(a.requestedAt)
	if (a.has("login") || a.has("select_account")) && !signedInSince {
		return true
	}
	return a.maxAge >= 0 && now.Sub(auth) > a.maxAge && !signedInSince
}

// secondFactorNeeded: the sign-in used no second factor, and two are
// required: by the client, by the account (it must use one, or has one),
// or by the request (acr_values that accept only two factors). Wherever a
// code is issued this holds, not only at the password page: a browser
// signed in with a password elsewhere steps up here.
func (a *authorization) secondFactorNeeded() bool {
	if slices.Contains(a.browser.Methods, "otp") {
		return false
	}
	acr := strings.Fields(a.ar.GetRequestForm().Get("acr_values"))
	asked := slices.Contains(acr, issuer.ACRTwoFactors) && !slices.Contains(acr, issuer.ACROnePassword)
	return a.client.RequireTwoFactor || a.account.TwoFactorRequired || a.account.TOTPConfirmedAt != nil || asked
}

// consentNeeded: a third-party client lacks consent for a requested scope, or
// prompt=consent asks again and no consent was given since the request
// started.
func (a *authorization) consentNeeded(ctx context.Context) (bool, error) {
	if a.client.FirstParty {
		return false, nil
	}
	c, err := a.t.records.GetConsent(ctx, a.account.ID, a.client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range a.ar.GetRequestedScopes() {
		if !c.Scopes.Has(s) {
			return true, nil
		}
	}
	return a.has("consent") && c.GrantedAt.Before(a.requestedAt), nil
}
