package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usher-idp/usher/flows/mail"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
	"github.com/usher-idp/usher/templates"
)

// runAt runs a command with the clock at now+ahead.
func (tc *testCLI) runAt(ahead time.Duration, env []string, args ...string) string {
	tc.t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{env: append(append([]string(nil), tc.env...), env...), stdin: strings.NewReader(""), stdout: &out,
		stderr: &errOut, now: func() time.Time { return time.Now().Add(ahead) }}
	if err := c.run(context.Background(), args); err != nil {
		tc.t.Fatalf("usher %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// The janitor removes sent and failed emails older than outbox.retention,
// never a queued one.
func TestJanitorPurgesOldEmails(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db sqltest.DB) {
		tc := newTestCLI(t, db)
		tc.ok("", "migrate")
		tc.ok("", "institution", "create", "opera", "--name", "Opera")
		a := tc.app()
		inst, err := a.institution(t.Context(), "opera")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for range 3 {
			var e *storage.OutboxEmail
			err := a.store.InTx(t.Context(), func(ctx context.Context) error {
				e, err = a.outbox.Queue(ctx, inst, mail.Recipient{Email: "ops@example.org"}, templates.TwoFactorEnabledEmail{At: time.Now()})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		if err := a.store.MarkEmailSent(t.Context(), ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := a.store.MarkEmailFailed(t.Context(), ids[1], "550 no such user"); err != nil {
			t.Fatal(err)
		}
		// Two hours later, the default retention (30 days) keeps them all.
		if out := tc.runAt(2*time.Hour, nil, "janitor"); !strings.Contains(out, "outbox 0") {
			t.Fatalf("janitor: %s", out)
		}
		// With a retention of an hour, the sent and the failed ones go.
		if out := tc.runAt(2*time.Hour, []string{"USHER_OUTBOX_RETENTION=1h"}, "janitor"); !strings.Contains(out, "outbox 2") {
			t.Fatalf("janitor: %s", out)
		}
		list, err := a.store.In(inst.ID).ListEmails(t.Context(), storage.OutboxFilter{})
		if err != nil || len(list) != 1 || list[0].ID != ids[2] || list[0].Status != storage.EmailQueued {
			t.Fatalf("left after the janitor: %+v, %v", list, err)
		}
		short := &testCLI{t: t, env: append(append([]string(nil), tc.env...), "USHER_OUTBOX_RETENTION=30m")}
		short.fails("outbox.retention: must be at least 1h0m0s, got 30m0s", "", "janitor")
	})
}
