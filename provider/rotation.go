package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usher-idp/usher/provider/keys"
	"github.com/usher-idp/usher/storage"
)

// RotateKeys rotates an institution's signing keys now: the next keys (long
// published) sign from now on, the current ones retire.
func (p *Provider) RotateKeys(ctx context.Context, slug string) error {
	inst, err := p.stores.GetInstitutionBySlug(ctx, slug)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no institution %q", slug)
	}
	if err != nil {
		return err
	}
	if _, err := keys.Ensure(ctx, p.stores, p.sealer, inst.ID); err != nil {
		return err
	}
	return keys.Rotate(ctx, p.stores, p.sealer, inst.ID, p.retireFor, p.now())
}

// RotateDueKeys rotates the keys of every institution whose current keys have
// signed for longer than maxAge, and returns the slugs it rotated. Every
// replica may run it: a rotation happens once.
func (p *Provider) RotateDueKeys(ctx context.Context, maxAge time.Duration) ([]string, error) {
	list, err := p.stores.ListInstitutions(ctx)
	if err != nil {
		return nil, err
	}
	var rotated []string
	var errs []error
	for _, inst := range list {
		done, err := keys.RotateIfOlder(ctx, p.stores, p.sealer, inst.ID, maxAge, p.retireFor, p.now())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", inst.Slug, err))
		}
		if done {
			rotated = append(rotated, inst.Slug)
		}
	}
	return rotated, errors.Join(errs...)
}
