package flows

import (
	"errors"
	"net/http"

	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/templates"
)

// back is the way back to the application with this client ID: "Back to
// {client}", to its registered home page. Only a registered URL is ever
// offered, never one from the request; a client without a home page, or
// none at all, gives nil.
func (s *Site) back(r *http.Request, inst *storage.Institution, clientID string) *templates.Link {
	if clientID == "" || s.In == nil {
		return nil
	}
	client, err := findClient(r.Context(), s.In(inst.ID), clientID)
	if err != nil {
		if !errors.Is(err, storage.ErrUnavailable) { // an outage is logged by the store, once
			s.log().WarnContext(r.Context(), "way back", "institution", inst.Slug, "err", err)
		}
		return nil
	}
	return homeLink(client, "brand.back_to", "client")
}

// stepFrame is frame for a page of the request rt, which the browser's
// sign-in state keeps rather than the page's address: the way back is its
// client's. When the page's address names that client too, it is read
// once.
func (s *Site) stepFrame(r *http.Request, inst *storage.Institution, rt returnTo, hints ...string) templates.Frame {
	f := s.frame(r, inst, hints...)
	if f.Back == nil && rt.clientID() != requestClientID(r, inst.Slug) {
		f.Back = s.back(r, inst, rt.clientID())
	}
	return f
}

// clientFrame is stepFrame for a page that has read rt's client already
// (nil: rt names no client that exists), which it does not read again.
func (s *Site) clientFrame(r *http.Request, inst *storage.Institution, rt returnTo, client *storage.Client, hints ...string) templates.Frame {
	f := s.bareFrame(r, inst, hints...)
	if id := requestClientID(r, inst.Slug); id != rt.clientID() {
		f.Back = s.back(r, inst, id)
	}
	if f.Back == nil {
		f.Back = homeLink(client, "brand.back_to", "client")
	}
	return f
}

// homeLink is a link to the client's home page with the message id, the
// client's name as the value of key; nil when the client has none.
func homeLink(client *storage.Client, id, key string) *templates.Link {
	if client == nil || client.HomeURL == "" {
		return nil
	}
	return &templates.Link{URL: client.HomeURL, Text: templates.Text{ID: id, Args: map[string]string{key: client.Name}}}
}

// requestClientID is the client whose request r belongs to: the client_id
// of its return_to (in the query, or in a form already read), else, on the
// authorization endpoint, its own client_id.
func requestClientID(r *http.Request, slug string) string {
	raw := r.URL.Query().Get(issuer.ReturnToParam)
	if raw == "" && r.PostForm != nil {
		raw = r.PostForm.Get(issuer.ReturnToParam)
	}
	if rt, ok := parseReturnTo(slug, raw); ok {
		return rt.clientID()
	}
	if r.URL.Path != issuer.AuthorizeURL(slug) {
		return ""
	}
	id := r.URL.Query().Get("client_id")
	if id == "" && r.PostForm != nil {
		id = r.PostForm.Get("client_id")
	}
	if !storableText(id) {
		return ""
	}
	return id
}

// pointsOfSale are the ways on to the institution's points of sale with a
// home page: the signed-out page offers them.
func pointsOfSale(r *http.Request, s clientLister) ([]templates.Link, error) {
	all, err := s.ListClients(r.Context())
	if err != nil {
		return nil, err
	}
	var links []templates.Link
	for i := range all {
		if l := homeLink(&all[i], "reset.continue_to", "place"); all[i].PointOfSale && l != nil {
			links = append(links, *l)
		}
	}
	return links, nil
}
