package sqlstore

import (
	"context"
	"fmt"

	"github.com/usher-idp/usher/storage"
)

const clientColumns = `id, institution_id, name, secret_hash, public, account_kind, redirect_uris,
	post_logout_redirect_uris, grant_types, scopes, first_party, require_two_factor, require_pkce,
	introspection, point_of_sale, home_url, initiate_login_uri, id_token_alg, access_token_format, audiences,
	created_at, updated_at`

// CreateClient implements storage.ClientStore.
func (s *scoped) CreateClient(ctx context.Context, c *storage.Client) error {
	if c.ID == "" {
		return fmt.Errorf("create client: empty client ID")
	}
	now := s.clock()
	c.InstitutionID, c.CreatedAt, c.UpdatedAt = s.inst, now, now
	return s.atomic(ctx, func(ctx context.Context) error {
		err := s.insert(ctx, `INSERT INTO clients (`+clientColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.InstitutionID, c.Name, c.SecretHash, c.Public, c.AccountKind, c.RedirectURIs,
			c.PostLogoutRedirectURIs, c.GrantTypes, c.Scopes, c.FirstParty, c.RequireTwoFactor, c.RequirePKCE,
			c.Introspection, c.PointOfSale, c.HomeURL, c.InitiateLoginURI, c.IDTokenAlg, c.AccessTokenFormat, c.Audiences,
			c.CreatedAt, c.UpdatedAt)
		if err != nil {
			return fmt.Errorf("create client: %w", err)
		}
		return s.TouchInstitution(ctx, s.inst)
	})
}

// GetClient implements storage.ClientStore.
func (s *scoped) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	var c storage.Client
	if err := s.get(ctx, &c, `SELECT `+clientColumns+` FROM clients WHERE institution_id = ? AND id = ?`, s.inst, id); err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	return &c, nil
}

// ListClients implements storage.ClientStore.
func (s *scoped) ListClients(ctx context.Context) ([]storage.Client, error) {
	var list []storage.Client
	if err := s.all(ctx, &list, `SELECT `+clientColumns+` FROM clients WHERE institution_id = ? ORDER BY name, id`, s.inst); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return list, nil
}

// UpdateClient implements storage.ClientStore.
func (s *scoped) UpdateClient(ctx context.Context, c *storage.Client) error {
	now := s.clock()
	err := s.atomic(ctx, func(ctx context.Context) error {
		err := s.updateOne(ctx, "update client", `UPDATE clients SET name = ?, secret_hash = ?, public = ?,
		account_kind = ?, redirect_uris = ?, post_logout_redirect_uris = ?, grant_types = ?, scopes = ?,
		first_party = ?, require_two_factor = ?, require_pkce = ?, introspection = ?, point_of_sale = ?,
		home_url = ?, initiate_login_uri = ?, id_token_alg = ?, access_token_format = ?, audiences = ?, updated_at = ?
		WHERE institution_id = ? AND id = ?`,
			c.Name, c.SecretHash, c.Public, c.AccountKind, c.RedirectURIs, c.PostLogoutRedirectURIs, c.GrantTypes,
			c.Scopes, c.FirstParty, c.RequireTwoFactor, c.RequirePKCE, c.Introspection, c.PointOfSale, c.HomeURL,
			c.InitiateLoginURI, c.IDTokenAlg, c.AccessTokenFormat, c.Audiences, now, s.inst, c.ID)
		if err != nil {
			return err
		}
		return s.TouchInstitution(ctx, s.inst)
	})
	if err == nil {
		c.UpdatedAt = now
	}
	return err
}

// DeleteClient implements storage.ClientStore.
func (s *scoped) DeleteClient(ctx context.Context, id string) error {
	return s.atomic(ctx, func(ctx context.Context) error {
		err := s.updateOne(ctx, "delete client", `DELETE FROM clients WHERE institution_id = ? AND id = ?`, s.inst, id)
		if err != nil {
			return err
		}
		return s.TouchInstitution(ctx, s.inst)
	})
}
