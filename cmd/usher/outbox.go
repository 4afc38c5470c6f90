package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/usher-idp/usher/flows"
	"github.com/usher-idp/usher/storage"
)

// emailJSON is how outbox list prints an email: what happened to it, never
// what it says. Its subject and bodies are sealed at rest (they may hold a
// live link) and blanked once sent, so Subject is "" but for an email queued
// before sealing (or the one `usher mail test` just queued).
type emailJSON struct {
	ID            string     `json:"id"`
	AccountID     string     `json:"account_id"`
	Class         string     `json:"class"`
	Locale        string     `json:"locale"`
	Recipient     string     `json:"recipient"`
	Sender        string     `json:"sender"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at"`
}

func emailJSONOf(e *storage.OutboxEmail) emailJSON {
	return emailJSON{e.ID, e.AccountID, e.Class, e.Locale, e.Recipient, e.Sender, e.Subject, string(e.Status),
		e.Attempts, e.NextAttemptAt, e.LastError, e.CreatedAt, e.SentAt}
}

// usher outbox list --institution SLUG [--account EMAIL] [--status S] [--limit N] [--json]
func (c *cli) outboxList(ctx context.Context, args []string) error {
	fs := newFlags("outbox list").withInstitution()
	account := fs.String("account", "", "only the emails of the account(s) with this email address")
	status := fs.String("status", "", "only queued, sent or failed emails")
	limit := fs.Int("limit", 100, "at most this many emails, newest first (at most 1000)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := fs.parse(args, 0); err != nil {
		return err
	}
	switch storage.EmailStatus(*status) {
	case "", storage.EmailQueued, storage.EmailSent, storage.EmailFailed:
	default:
		return usageErr("usher outbox list: --status: want queued, sent or failed, got %q", *status)
	}
	if *limit < 1 || *limit > 1000 {
		return usageErr("usher outbox list: --limit: want 1 to 1000, got %d", *limit)
	}
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		list, err := listEmails(ctx, a.store.In(inst.ID), *account, storage.OutboxFilter{
			Status: storage.EmailStatus(*status), Limit: *limit})
		if err != nil {
			return err
		}
		return printEmails(c, list, *asJSON)
	})
}

// printEmails prints the emails as JSON or as a table.
func printEmails(c *cli, list []storage.OutboxEmail, asJSON bool) error {
	header := []any{"CREATED", "STATUS", "CLASS", "LOCALE", "TO", "ATTEMPTS", "NEXT/SENT", "LAST ERROR", "ID"}
	return printList(c.stdout, asJSON, list, emailJSONOf, header, func(e *storage.OutboxEmail) []any {
		when := e.NextAttemptAt.Format(time.RFC3339)
		switch {
		case e.SentAt != nil:
			when = e.SentAt.Format(time.RFC3339)
		case e.Status == storage.EmailFailed:
			when = "-"
		}
		return []any{e.CreatedAt.Format(time.RFC3339), e.Status, e.Class, e.Locale, e.Recipient, e.Attempts, when,
			shorten(e.LastError, 60), e.ID}
	})
}

// emailLister is what listEmails reads of an institution's records.
type emailLister interface {
	ListEmails(ctx context.Context, f storage.OutboxFilter) ([]storage.OutboxEmail, error)
	GetAccountByEmail(ctx context.Context, kind storage.AccountKind, email string) (*storage.Account, error)
}

// listEmails lists the emails f selects, of the accounts (customer and
// operator) with the address account when it is set, newest first.
func listEmails(ctx context.Context, s emailLister, account string, f storage.OutboxFilter) ([]storage.OutboxEmail, error) {
	if account == "" {
		return s.ListEmails(ctx, f)
	}
	var list []storage.OutboxEmail
	found := false
	for _, kind := range []storage.AccountKind{storage.Customer, storage.Operator} {
		acc, err := s.GetAccountByEmail(ctx, kind, account)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		f.AccountID = acc.ID
		some, err := s.ListEmails(ctx, f)
		if err != nil {
			return nil, err
		}
		list = append(list, some...)
	}
	if !found {
		return nil, fmt.Errorf("no account with the email %s", account)
	}
	slices.SortFunc(list, func(x, y storage.OutboxEmail) int {
		if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	if f.Limit > 0 && len(list) > f.Limit {
		list = list[:f.Limit]
	}
	return list, nil
}

// shorten cuts s to n characters on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// usher outbox retry --institution SLUG ID
func (c *cli) outboxRetry(ctx context.Context, args []string) error {
	fs := newFlags("outbox retry").withInstitution()
	rest, err := fs.parse(args, 1)
	if err != nil {
		return err
	}
	id := rest[0]
	return c.inInstitution(ctx, fs, func(a *app, inst *storage.Institution) error {
		err := a.outbox.Retry(ctx, inst, id, string(flows.ActorCLI))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("no email %s in institution %s (usher outbox list shows them)", id, inst.Slug)
		case errors.Is(err, storage.ErrConflict):
			return fmt.Errorf("email %s was sent already: nothing to retry", id)
		case err != nil:
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "email %s queued again; a running usher serve delivers it\n", id)
		return err
	})
}
