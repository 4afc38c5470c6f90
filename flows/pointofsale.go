package flows

import (
	"context"
	"fmt"
	"net/url"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// clientLister lists an institution's clients.
type clientLister interface {
	ListClients(ctx context.Context) ([]storage.Client, error)
}

// pointOfSale is where an emailed link takes its person back to: the
// client of the request when it is a point of sale, else the institution's
// first point of sale (by name); nil when the institution has none.
func pointOfSale(ctx context.Context, s clientLister, client *storage.Client) (*storage.Client, error) {
	if client != nil && client.PointOfSale {
		return client, nil
	}
	all, err := s.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("points of sale: %w", err)
	}
	for i := range all {
		if all[i].PointOfSale {
			return &all[i], nil
		}
	}
	return nil, nil
}

// onward is the way on once a link's page is done: the authorization
// request in progress in this browser; else the point of sale, through
// its initiate_login_uri (OpenID Connect third-party initiated login: iss
// and login_hint, so that it signs the person in with the session that now
// exists), else its home page; else the account page.
func onward(publicURL string, inst *storage.Institution, pos *storage.Client, email string, rt returnTo) *templates.Link {
	switch {
	case rt.valid():
		return &templates.Link{URL: rt.raw, Text: templates.Text{ID: "reset.continue"}}
	case pos != nil && pos.InitiateLoginURI != "":
		u, err := url.Parse(pos.InitiateLoginURI)
		if err == nil {
			q := u.Query()
			q.Set("iss", issuer.URL(publicURL, inst.Slug))
			q.Set("login_hint", email)
			u.RawQuery = q.Encode()
			return &templates.Link{URL: u.String(), Text: templates.Text{ID: "reset.continue_to",
				Args: map[string]string{"place": pos.Name}}}
		}
	case pos != nil && pos.HomeURL != "":
		return &templates.Link{URL: pos.HomeURL, Text: templates.Text{ID: "reset.continue_to",
			Args: map[string]string{"place": pos.Name}}}
	}
	return &templates.Link{URL: pagePath(inst.Slug, "/account"), Text: templates.Text{ID: "reset.continue"}}
}
