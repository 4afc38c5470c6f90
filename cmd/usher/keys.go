package main

import (
	"context"
	"fmt"
	"time"
)

// usher keys rotate --institution SLUG
func (c *cli) keysRotate(ctx context.Context, args []string) error {
	fs := newFlags("keys rotate").withInstitution()
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	slug := fs.institution
	if slug == "" {
		return usageErr("--institution is required")
	}
	return c.withApp(ctx, fs, func(a *app) error {
		if err := a.provider.RotateKeys(ctx, slug); err != nil {
			return err
		}
		_, err := fmt.Fprintf(c.stdout, "rotated the signing keys of %s: the next keys sign from now on; the old ones stay published for a week\n", slug)
		return err
	})
}

// rotateKeysEvery checks every interval (and at start) for institutions whose
// keys are older than maxAge and rotates them; maxAge 0 disables it.
func rotateKeysEvery(ctx context.Context, a *app, interval, maxAge time.Duration) {
	if maxAge <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rotated, err := a.provider.RotateDueKeys(ctx, maxAge)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("scheduled key rotation", "error", err)
		}
		for _, slug := range rotated {
			a.log.Info("rotated signing keys", "institution", slug)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
