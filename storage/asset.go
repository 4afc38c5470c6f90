package storage

import (
	"context"
	"time"
)

// Asset is a file an institution shows on its pages and in its emails: its
// uploaded logo or favicon. It is checked (type, size, no script) before it
// is stored: the store keeps what it is given.
type Asset struct {
	InstitutionID string    `db:"institution_id"`
	Name          string    `db:"name"`         // "logo" or "favicon"
	ContentType   string    `db:"content_type"` // e.g. "image/png"
	Data          []byte    `db:"data"`
	Digest        string    `db:"digest"` // hex SHA-256 of Data: the asset's URL carries it
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// The names of an institution's assets.
const (
	AssetLogo    = "logo"
	AssetFavicon = "favicon"
)

// AssetStore keeps an institution's assets.
type AssetStore interface {
	// PutAsset creates the asset a.Name, or replaces its content type,
	// data and digest. InstitutionID and the timestamps are assigned
	// (CreatedAt is kept on replacement).
	PutAsset(ctx context.Context, a *Asset) error
	// GetAsset returns the asset with this name, or ErrNotFound.
	GetAsset(ctx context.Context, name string) (*Asset, error)
	// DeleteAsset removes the asset; ErrNotFound when there is none.
	DeleteAsset(ctx context.Context, name string) error
}
