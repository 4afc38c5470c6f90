package flows

import (
	"context"
	"errors"
	"net/http"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// linkUse is a link being used: the link, its account, its secret.
type linkUse struct {
	token  *storage.ActionToken
	acct   *storage.Account
	secret string
}

// linkReader is what opening a link reads.
type linkReader interface {
	LinkStore
	AccountGetter
}

// openLink reads the link of secret, of the first of purposes it is a link
// of, and its account, without consuming it. A link whose account is gone
// or disabled is unknown.
func openLink(ctx context.Context, s linkReader, secret string, purposes ...storage.ActionPurpose) (linkUse, LinkState, error) {
	var t *storage.ActionToken
	state := LinkUnknown
	for _, p := range purposes {
		var err error
		if t, state, err = checkLink(ctx, s, p, secret); err != nil {
			return linkUse{}, "", err
		}
		if state != LinkUnknown {
			break
		}
	}
	if state != LinkValid {
		return linkUse{}, state, nil
	}
	acct, err := s.GetAccount(ctx, t.AccountID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && acct.Status == storage.Disabled) {
		return linkUse{}, LinkUnknown, nil
	}
	if err != nil {
		return linkUse{}, "", err
	}
	return linkUse{token: t, acct: acct, secret: secret}, LinkValid, nil
}

// signInAfterLink signs in the account whose link was just used (event:
// how) and shows the message page (title, message) with the way on: the
// request that led to the link, else the point of sale; or the step of the
// second factor still due (a link does not remove it).
func signInAfterLink(w http.ResponseWriter, r *http.Request, site *Site, sessions *Sessions, inst *storage.Institution,
	acct *storage.Account, pos *storage.Client, event signInEvent, title, message string) {
	b, err := sessions.load(r, inst)
	if err != nil {
		site.fail(w, r, inst, err)
		return
	}
	resume := b.state.resumable(inst.Slug, site.now())
	state, err := sessions.enter(w, r, inst, b, event, secondFactorNeed(acct, nil, resume), acct.ID, resume)
	if err != nil {
		site.fail(w, r, inst, err)
		return
	}
	next := onward(site.PublicURL, inst, pos, acct.Email, resume)
	if step, ok := stepPages[state.State]; ok {
		next = &templates.Link{URL: pagePath(inst.Slug, step), Text: templates.Text{ID: "reset.continue"}}
	}
	page := templates.MessagePage{Frame: site.frame(r, inst, resume.uiLocales(), acct.Locale),
		Title: title, Message: message, Next: next}
	site.render(w, r, func() error { return site.Pages.Message(w, http.StatusOK, page) })
}
