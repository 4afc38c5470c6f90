package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usher-idp/usher/internal/outage"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
	"github.com/usher-idp/usher/storage/sqlstore/sqltest"
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// A database that stops answering (refused, stalled) makes every call
// return storage.ErrUnavailable within its deadline, with what failed; the
// outage is logged when it starts and ends, not once per call; the store
// works again as soon as the database is back.
func TestUnavailableDatabase(t *testing.T) {
	db := sqltest.Postgres(t)
	proxy, url := sqltest.ProxyFor(t, db)
	logs := &syncBuffer{}
	const timeout = 500 * time.Millisecond
	s := sqltest.Open(t, sqltest.DB{Dialect: db.Dialect, URL: url}, sqlstore.Options{
		Timeout: timeout, ReadTimeout: timeout,
		Outages: outage.New(slog.New(slog.NewTextHandler(logs, nil)), "database", 0, nil),
	})
	ctx := context.Background()
	if _, err := s.GetInstitutionBySlug(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("before the outage: %v, want ErrNotFound", err)
	}

	proxy.Down()
	const calls = 200
	for range calls {
		_, err := s.GetInstitutionBySlug(ctx, "nobody")
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("database down: %v, want ErrUnavailable", err)
		}
	}
	_, err := s.GetInstitutionBySlug(ctx, "nobody")
	if kind := storage.UnavailableKind(err); kind != "connection refused" && kind != "connection lost" && kind != "connection reset" {
		t.Errorf("database down: kind %q (%v), want a connection failure", kind, err)
	}
	if err := s.Ready(ctx); !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, sqlstore.ErrNotMigrated) {
		t.Errorf("Ready with the database down: %v, want ErrUnavailable and not ErrNotMigrated", err)
	}

	// Stalled: the calls end at their deadline; a transaction's too.
	proxy.Resume()
	if _, err := s.GetInstitutionBySlug(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("back up: %v, want ErrNotFound", err)
	}
	proxy.Stall()
	var wg sync.WaitGroup
	errs := make(chan error, 41)
	start := time.Now()
	for range 40 { // more than the pool holds
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.GetInstitutionBySlug(ctx, "nobody")
			errs <- err
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- s.InTx(ctx, func(ctx context.Context) error {
			_, err := s.GetInstitutionBySlug(ctx, "nobody")
			return err
		})
	}()
	wg.Wait()
	close(errs)
	if took := time.Since(start); took > timeout+3*time.Second {
		t.Errorf("stalled: the calls took %s, want about the deadline %s", took, timeout)
	}
	for err := range errs {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("stalled: %v, want ErrUnavailable", err)
		} else if kind := storage.UnavailableKind(err); kind != "deadline exceeded" {
			t.Errorf("stalled: kind %q, want deadline exceeded", kind)
		}
	}
	proxy.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.GetInstitutionBySlug(ctx, "nobody")
		if errors.Is(err, storage.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the stall: %v, want ErrNotFound", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	lines := logs.lines()
	var starts, ends int
	for _, l := range lines {
		switch {
		case strings.Contains(l, `msg="database unavailable"`):
			starts++
		case strings.Contains(l, `msg="database available again"`):
			ends++
		case strings.Contains(l, "schema is behind"):
			t.Errorf("a connection failure logged as a schema problem: %s", l)
		}
	}
	if starts != 2 || ends != 2 {
		t.Errorf("two outages logged as %d starts and %d ends, want 2 and 2:\n%s", starts, ends, strings.Join(lines, "\n"))
	}
	if len(lines) > 10 {
		t.Errorf("%d failed calls logged %d lines, want a few:\n%s", calls+42, len(lines), strings.Join(lines, "\n"))
	}
}
