package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
)

// Invite sends an account without a password (one an operator created) an
// invitation: a link that asks for the first password, then activates the
// account and proves its address (the page is the Activation flow's). The
// link returns to the point of sale posID names, or, with "", to the
// institution's point of sale; document names the institution's document
// ("" its default). A newer invitation supersedes the older ones.
func (x *Accounts) Invite(ctx context.Context, inst *storage.Institution, accountID, posID, document string, actor Actor) error {
	s := x.In(inst.ID)
	a, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	var v invalid
	if a.PasswordHash != "" || a.Status != storage.Pending {
		v.add("account", "invitation.has_password", nil)
	}
	pos, err := pointOfSaleNamed(ctx, s, posID)
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	if pos == nil {
		v.add("point_of_sale", "invitation.no_point_of_sale", nil)
	}
	if err := v.err(); err != nil {
		return err
	}
	err = x.Tx.InTx(ctx, func(ctx context.Context) error { return x.invite(ctx, inst, a, pos, document, actor) })
	return inviteError(err)
}

// CreateInvited creates an account without a password and sends it an
// invitation (see Invite), in one transaction: an account that cannot be
// invited is not created.
func (x *Accounts) CreateInvited(ctx context.Context, inst *storage.Institution, n NewAccount, posID, document string,
	actor Actor) (*storage.Account, error) {
	n.Email, n.Password = strings.TrimSpace(n.Email), ""
	var v invalid
	x.checkAccount(&v, n)
	s := x.In(inst.ID)
	pos, err := pointOfSaleNamed(ctx, s, posID)
	if err != nil {
		return nil, fmt.Errorf("create invited account: %w", err)
	}
	if pos == nil {
		v.add("point_of_sale", "invitation.no_point_of_sale", nil)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	a := newAccount(inst, n)
	err = x.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := x.store(ctx, s, a, actor); err != nil {
			return err
		}
		return x.invite(ctx, inst, a, pos, document, actor)
	})
	if errors.Is(err, storage.ErrDuplicate) {
		v.add("email", "account.email_taken", nil)
		return nil, v.err()
	}
	if err := inviteError(err); err != nil {
		return nil, err
	}
	return a, nil
}

// invite queues the invitation of a and records it, in the transaction of
// ctx.
func (x *Accounts) invite(ctx context.Context, inst *storage.Institution, a *storage.Account, pos *storage.Client,
	document string, actor Actor) error {
	s := x.In(inst.ID)
	l := linkMail{store: s, mailer: x.Mailer, publicURL: x.PublicURL, now: x.Now()}
	if err := queueActivation(ctx, l, inst, a, pos, storage.PurposeInvite, string(actor), document); err != nil {
		return err
	}
	return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "invitation_sent",
		Details: storage.Details{"point_of_sale": pos.ID, "document": document}})
}

// inviteError turns an unknown document into the problem of the field.
func inviteError(err error) error {
	if errors.Is(err, mail.ErrUnknownDocument) {
		return &InvalidError{Problems: []Problem{{Field: "document", ID: "invitation.unknown_document"}}}
	}
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	return nil
}

// pointOfSaleNamed is the point of sale with this client ID, nil when the
// client is none or not a point of sale; with "", the institution's first
// point of sale (nil when it has none).
func pointOfSaleNamed(ctx context.Context, s interface {
	clientGetter
	clientLister
}, id string) (*storage.Client, error) {
	if id == "" {
		return pointOfSale(ctx, s, nil)
	}
	c, err := findClient(ctx, s, id)
	if err != nil || c == nil || !c.PointOfSale {
		return nil, err
	}
	return c, nil
}
