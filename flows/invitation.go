package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
)

// Invitations is how the service team and operators invite a person to
// an account they created without a password: the invitation flow's side
// that sends the link (its page is the Activation flow's).
type Invitations struct {
	Accounts *Accounts // its store, mailer and checks of new accounts
}

// Invite sends an account without a password (one an operator created) an
// invitation: a link that asks for the first password, then activates the
// account and proves its address (the page is the Activation flow's). The
// link returns to the point of sale posID names ("" when the institution
// has exactly one); document names the institution's document of the
// invitation's class ("" its default). A newer invitation supersedes the
// older ones. An account that has a password is a ConflictError (send it a
// reset instead), a disabled one a StateError; an institution without a
// point of sale is ErrNoPointOfSale, never a link that leads nowhere.
func (in *Invitations) Invite(ctx context.Context, inst *storage.Institution, accountID, posID, document string, actor Actor) error {
	if in.Accounts.Mailer == nil {
		return errors.New("invite: no mailer")
	}
	s := in.Accounts.In(inst.ID)
	err := in.Accounts.Tx.InTx(ctx, func(ctx context.Context) error {
		a, err := s.GetAccount(ctx, accountID)
		if err != nil {
			return err
		}
		switch {
		case a.PasswordHash != "":
			return &ConflictError{Problems: []Problem{{ID: "invitation.has_password"}}}
		case a.Status == storage.Disabled:
			return &StateError{ID: "account.disabled"}
		}
		pos, err := choosePointOfSale(ctx, s, posID)
		if err != nil {
			return err
		}
		return in.invite(ctx, inst, a, pos, document, actor)
	})
	return inviteError(err)
}

// CreateInvited creates an account without a password and sends it an
// invitation (see Invite), in one transaction: an account that cannot be
// invited is not created. Every problem of n and of the point of sale is
// listed at once.
func (in *Invitations) CreateInvited(ctx context.Context, inst *storage.Institution, n NewAccount, posID, document string,
	actor Actor) (*storage.Account, error) {
	if in.Accounts.Mailer == nil {
		return nil, errors.New("create invited account: no mailer")
	}
	n.trim()
	n.Password = ""
	var v invalid
	in.Accounts.checkAccount(&v, n)
	s := in.Accounts.In(inst.ID)
	pos, err := choosePointOfSale(ctx, s, posID)
	v.problems = append(v.problems, Problems(err)...)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	a := newAccount(inst, n)
	err = in.Accounts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := in.Accounts.store(ctx, s, a, actor); err != nil {
			return err
		}
		return in.invite(ctx, inst, a, pos, document, actor)
	})
	if err := inviteError(takenError(err)); err != nil {
		return nil, err
	}
	return a, nil
}

// invite queues the invitation of a and records it, in the transaction of
// ctx.
func (in *Invitations) invite(ctx context.Context, inst *storage.Institution, a *storage.Account, pos *storage.Client,
	document string, actor Actor) error {
	s := in.Accounts.In(inst.ID)
	l := linkMail{store: s, mailer: in.Accounts.Mailer, publicURL: in.Accounts.PublicURL, now: in.Accounts.Now()}
	if err := queueActivation(ctx, l, inst, a, pos, storage.PurposeInvite, string(actor), document); err != nil {
		return err
	}
	return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "invitation_sent",
		Details: storage.Details{"point_of_sale": pos.ID, "document": document}})
}

// inviteError turns an unknown document into the problem of the field, and
// leaves the refusals as they are.
func inviteError(err error) error {
	var state *StateError
	switch {
	case errors.Is(err, mail.ErrUnknownDocument):
		return errUnknownDocument()
	case err == nil, Problems(err) != nil, errors.As(err, &state), errors.Is(err, ErrNoPointOfSale):
		return err
	}
	return fmt.Errorf("invite: %w", err)
}

// errUnknownDocument refuses a document the institution does not have
// (mail.ErrUnknownDocument) as a problem of the document field.
func errUnknownDocument() error {
	return &InvalidError{Problems: []Problem{{Field: "document", ID: "account.document_unknown"}}}
}
