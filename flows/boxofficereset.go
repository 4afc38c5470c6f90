package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
)

// BoxOfficeReset is an operator's request to email an account a reset link.
type BoxOfficeReset struct {
	// PointOfSale is the client ID of the point of sale the link leads back
	// to; "" when the institution has exactly one.
	PointOfSale string
	// Document names the institution's password_reset document to send;
	// "" the default one.
	Document string
}

// SendResetLink is the box-office reset: the same email as a forgotten
// password's (a new link superseding the older ones, the password_reset
// email marked as sent by an operator, the audit event), in one
// transaction. An institution without a point of sale is ErrNoPointOfSale
// (never a link that leads nowhere); a disabled account a StateError; an
// unknown point of sale or document an InvalidError.
func (x *Accounts) SendResetLink(ctx context.Context, inst *storage.Institution, accountID string, req BoxOfficeReset, actor Actor) error {
	if x.Mailer == nil {
		return errors.New("send reset link: no mailer")
	}
	s := x.In(inst.ID)
	acct, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("send reset link: %w", err)
	}
	if acct.Status == storage.Disabled {
		return &StateError{ID: "account.disabled"}
	}
	pos, err := choosePointOfSale(ctx, s, req.PointOfSale)
	if err != nil {
		return err
	}
	link := linkMail{store: s, mailer: x.Mailer, publicURL: x.PublicURL, now: x.Now()}
	err = x.Tx.InTx(ctx, func(ctx context.Context) error {
		return queueResetLink(ctx, link, inst, acct, linkRequest{pos: pos, document: req.Document, actor: actor})
	})
	if errors.Is(err, mail.ErrUnknownDocument) {
		return errUnknownDocument()
	}
	if err != nil {
		return fmt.Errorf("send reset link: %w", err)
	}
	return nil
}

// choosePointOfSale is the institution's point of sale with this client
// ID, or, for "", its only one. ErrNoPointOfSale when it has none.
func choosePointOfSale(ctx context.Context, s clientLister, id string) (*storage.Client, error) {
	all, err := s.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("points of sale: %w", err)
	}
	var points []*storage.Client
	for i := range all {
		if all[i].PointOfSale {
			points = append(points, &all[i])
		}
	}
	var v invalid
	switch {
	case len(points) == 0:
		return nil, ErrNoPointOfSale
	case id == "" && len(points) == 1:
		return points[0], nil
	case id == "":
		v.add("point_of_sale", "account.point_of_sale_required", nil)
		return nil, v.err()
	}
	for _, p := range points {
		if p.ID == id {
			return p, nil
		}
	}
	v.add("point_of_sale", "account.point_of_sale_unknown", nil)
	return nil, v.err()
}
