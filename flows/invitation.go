package flows

import (
	"context"
	"errors"
	"fmt"

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
	operator := ""
	if id, ok := operatorOf(actor); ok {
		operator = id
	}
	err = x.Tx.InTx(ctx, func(ctx context.Context) error {
		l := linkMail{store: s, mailer: x.Mailer, publicURL: x.PublicURL, now: x.Now()}
		if err := queueActivation(ctx, l, inst, a, pos, storage.PurposeInvite, operator, document); err != nil {
			return err
		}
		return s.RecordAudit(ctx, &storage.AuditEvent{AccountID: a.ID, Actor: string(actor), Action: "invitation_sent",
			Details: storage.Details{"point_of_sale": pos.ID, "document": document}})
	})
	if errors.Is(err, mail.ErrUnknownDocument) {
		v.add("document", "invitation.unknown_document", nil)
		return v.err()
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

// operatorOf is the operator's account ID of an operator actor.
func operatorOf(a Actor) (string, bool) {
	const prefix = "operator:"
	if len(a) > len(prefix) && string(a[:len(prefix)]) == prefix {
		return string(a[len(prefix):]), true
	}
	return "", false
}
