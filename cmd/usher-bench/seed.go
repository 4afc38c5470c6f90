package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/internal/issuer"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// usher-bench seed writes many accounts and OAuth2 token rows into one
// institution, fast: through the storage layer's bulk path (sqlstore.Bulk)
// in big transactions, one precomputed argon2id hash for every account.
// The records look like the ones Usher writes (the same sizes and JSON
// sessions), spread over time: most tokens are expired or rotated, some
// active, so the janitor has work.

const seedUsage = `usage: usher-bench seed --institution SLUG [--accounts N] [--tokens M] [flags]

Writes N accounts and M OAuth2 token rows into the institution SLUG (created
when missing), directly in the database of --database-url, and prints rows/s.
Every seeded account has the password printed at the end. Stop the server
during a big load: the table's secondary indexes are dropped and rebuilt.

Flags:
`

// seedPassword is the password of every seeded account.
const seedPassword = "Seeded-passw0rd-correct-horse"

type seedOptions struct {
	databaseURL string
	secret      string
	institution string
	accounts    int
	tokens      int
	days        int
	batch       int
	txRows      int
	prefix      string
	cpuprofile  string
	keepIndexes bool
}

func seedCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o seedOptions
	fs := flag.NewFlagSet("usher-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, seedUsage); fs.PrintDefaults() }
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("USHER_DATABASE_URL"), "the database (default $USHER_DATABASE_URL)")
	fs.StringVar(&o.secret, "secret", os.Getenv("USHER_SECRET"),
		"the server's master secret (default $USHER_SECRET): creates the institution's signing keys")
	fs.StringVar(&o.institution, "institution", "", "slug of the institution to fill (created when missing)")
	fs.IntVar(&o.accounts, "accounts", 0, "accounts to write")
	fs.IntVar(&o.tokens, "tokens", 0, "OAuth2 token rows to write")
	fs.IntVar(&o.days, "days", 60, "the tokens' issue times are spread over this many past days")
	fs.IntVar(&o.batch, "batch", 50, "rows per insert statement (SQLite; bigger batches need bigger statement journals and are slower)")
	fs.IntVar(&o.txRows, "tx-rows", 1000000, "rows per transaction")
	fs.BoolVar(&o.keepIndexes, "keep-indexes", false,
		"keep the secondary indexes during a load of 100,000 rows or more (by default they are dropped and rebuilt, "+
			"which is much faster; unique constraints always stay)")
	fs.StringVar(&o.prefix, "prefix", "", "prefix of the seeded emails (default: seed-<random>)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the seeding to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected argument %q", fs.Arg(0))
	}
	if o.institution == "" || o.databaseURL == "" {
		return errors.New("seed: --institution and --database-url are required")
	}
	if o.accounts < 0 || o.tokens < 0 || o.batch < 1 || o.txRows < o.batch || o.days < 1 {
		return errors.New("seed: counts must not be negative, --batch at least 1, --tx-rows at least --batch, --days at least 1")
	}
	if o.prefix == "" {
		o.prefix = "seed-" + randomTag()
	}
	// A bulk load makes garbage fast; collecting less often saves the
	// CPU (and, on virtual machines, the costly madvise calls) of
	// returning memory that is needed again at once.
	debug.SetGCPercent(400)
	stopProfile, err := startCPUProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	return seed(ctx, o, stdout)
}

// seeder writes rows of one institution through the store's bulk path.
type seeder struct {
	o       seedOptions
	store   *sqlstore.Store
	bulk    *sqlstore.Bulk
	dialect string
	inst    *storage.Institution
	client  string
	issuer  string
	rng     *mrand.Rand
	out     io.Writer
	dropped int // indexes the running load dropped
}

func seed(ctx context.Context, o seedOptions, out io.Writer) error {
	// The indexes being filled stay in memory (SQLite: 1 GiB of page cache).
	store, err := sqlstore.Open(ctx, o.databaseURL, sqlstore.Options{CacheMiB: 1024})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Ready(ctx); err != nil {
		return fmt.Errorf("database: %w (run usher migrate first)", err)
	}
	inst, err := institution(ctx, store, o.institution)
	if err != nil {
		return err
	}
	if o.secret != "" {
		if err := ensureKeys(ctx, store, o.secret, inst.ID); err != nil {
			return err
		}
	}
	// The tokens belong to a shop client, as a shop's grants do.
	shopID := "seed-shop"
	if _, err := store.In(inst.ID).GetClient(ctx, shopID); errors.Is(err, storage.ErrNotFound) {
		_, _, err := clientsOf(store).Register(ctx, inst, provider.ClientSpec{ID: shopID, Name: "Seeded shop",
			RedirectURIs: []string{"https://shop.example/callback"}, FirstParty: true}, benchActor)
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	s := &seeder{o: o, store: store, dialect: store.Dialect(), inst: inst, client: shopID, out: out,
		issuer: issuer.URL("https://id.example.org", inst.Slug),
		rng:    mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))}
	s.bulk = store.Bulk(inst.ID, sqlstore.BulkOptions{InsertRows: o.batch, Indexes: s.indexHooks()})
	fmt.Fprintf(out, "seeding institution %s (%s) on %s: %d accounts, %d token rows\n",
		inst.Slug, inst.ID, s.dialect, o.accounts, o.tokens)
	var subjects []string
	if o.accounts > 0 {
		err := s.load(ctx, sqlstore.AccountsTable, o.accounts, func(ctx context.Context) (err error) {
			subjects, err = s.seedAccounts(ctx)
			return err
		})
		if err != nil {
			return err
		}
	}
	if o.tokens > 0 {
		if len(subjects) == 0 {
			if subjects, err = s.existingSubjects(ctx); err != nil {
				return err
			}
		}
		err := s.load(ctx, sqlstore.OAuth2Table, o.tokens, func(ctx context.Context) error { return s.seedTokens(ctx, subjects) })
		if err != nil {
			return err
		}
	}
	if s.dialect == "postgres" {
		start := time.Now()
		if err := store.Analyze(ctx, sqlstore.AccountsTable, sqlstore.OAuth2Table); err != nil {
			return err
		}
		fmt.Fprintf(out, "ANALYZE accounts, oauth2_tokens: %.1fs (autovacuum would do it soon after such a load)\n",
			time.Since(start).Seconds())
	}
	s.printSizes(ctx)
	if o.accounts > 0 {
		fmt.Fprintf(out, "seeded accounts: %s-<n>@seed.example (n from 0), password %q\n", o.prefix, seedPassword)
	}
	return nil
}

// indexHooks tell what the bulk path does to the indexes of a big load.
func (s *seeder) indexHooks() sqlstore.IndexHooks {
	return sqlstore.IndexHooks{
		Dropping: func(t sqlstore.Table, indexes []sqlstore.Index) {
			s.dropped = len(indexes)
			fmt.Fprintf(s.out, "%s: dropping %d secondary indexes for the load; if it is interrupted, recreate them with:\n",
				t, len(indexes))
			for _, ix := range indexes {
				fmt.Fprintf(s.out, "  %s;\n", ix.Definition)
			}
		},
		Rebuilding: func(t sqlstore.Table, indexes []sqlstore.Index) {
			fmt.Fprintf(s.out, "%s: rebuilding %d indexes\n", t, len(indexes))
		},
		Rebuilt: func(ix sqlstore.Index, took time.Duration) {
			fmt.Fprintf(s.out, "  rebuilt index %s in %.1fs\n", ix.Name, took.Seconds())
		},
	}
}

// load runs fill with the table's secondary indexes dropped when the load
// is big, rebuilding them afterwards: building an index once is much faster
// than inserting millions of random keys into it.
func (s *seeder) load(ctx context.Context, table sqlstore.Table, rows int, fill func(ctx context.Context) error) error {
	if s.o.keepIndexes || rows < 100000 {
		return fill(ctx)
	}
	start := time.Now()
	s.dropped = 0
	err := s.bulk.WithoutIndexes(ctx, table, fill)
	if s.dropped > 0 {
		fmt.Fprintf(s.out, "%s: load and index rebuild took %.1fs\n", table, time.Since(start).Seconds())
	}
	return err
}

// chunkRows is about how many rows go to the store in one call: a bulk
// statement (or a few) big enough that its round trips do not count.
const chunkRows = 10000

// writer streams records of one table to the store's bulk path in chunks,
// a transaction every txRows rows, and reports the rate.
type writer[T any] struct {
	s      *seeder
	table  sqlstore.Table
	load   func(ctx context.Context, batch []T) error
	chunk  []T
	size   int             // rows per chunk
	tx     context.Context // the open transaction, or nil
	inTx   int
	total  int
	start  time.Time
	report time.Time
}

func newWriter[T any](s *seeder, table sqlstore.Table, load func(context.Context, []T) error) *writer[T] {
	// Whole statements of --batch rows per chunk, no more than a transaction.
	size := min(s.o.txRows, (chunkRows+s.o.batch-1)/s.o.batch*s.o.batch)
	now := time.Now()
	return &writer[T]{s: s, table: table, load: load, size: size, chunk: make([]T, 0, size), start: now, report: now}
}

func (w *writer[T]) add(ctx context.Context, rec T) error {
	if w.tx == nil {
		tx, err := w.s.store.BeginTx(ctx)
		if err != nil {
			return err
		}
		w.tx, w.inTx = tx, 0
	}
	w.chunk = append(w.chunk, rec)
	w.inTx++
	w.total++
	if len(w.chunk) == w.size {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.inTx >= w.s.o.txRows {
		return w.commit()
	}
	return nil
}

// flush hands the chunk to the store, in the transaction.
func (w *writer[T]) flush() error {
	if len(w.chunk) == 0 {
		return nil
	}
	err := w.load(w.tx, w.chunk)
	clear(w.chunk) // let the records go
	w.chunk = w.chunk[:0]
	if err != nil {
		_ = w.s.store.Rollback(w.tx)
		w.tx = nil
	}
	return err
}

func (w *writer[T]) commit() error {
	if w.tx == nil {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	err := w.s.store.Commit(w.tx)
	w.tx = nil
	if err != nil {
		return fmt.Errorf("commit %s: %w", w.table, err)
	}
	if time.Since(w.report) >= 5*time.Second {
		w.report = time.Now()
		el := time.Since(w.start).Seconds()
		fmt.Fprintf(w.s.out, "  %s: %d rows, %.0f rows/s\n", w.table, w.total, float64(w.total)/el)
	}
	return nil
}

func (w *writer[T]) finish() error {
	if err := w.commit(); err != nil {
		return err
	}
	el := time.Since(w.start).Seconds()
	fmt.Fprintf(w.s.out, "%s: %d rows in %.1fs, %.0f rows/s\n", w.table, w.total, el, float64(w.total)/el)
	return nil
}

var (
	givenNames  = []string{"Ann", "Bruno", "Chloé", "Dario", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Klara", "Luca"}
	familyNames = []string{"Smith", "Müller", "Rossi", "Dubois", "Meier", "Bianchi", "Martin", "Keller", "Weber", "Fontana"}
	locales     = []string{"", "", "", "en", "fr", "de", "it"}
)

// seedAccounts writes the accounts, created over the past three years in
// order (their UUIDv7 IDs grow with their creation time, as Usher's do),
// and returns their IDs.
func (s *seeder) seedAccounts(ctx context.Context) ([]string, error) {
	hasher, err := password.NewHasher(password.Config{})
	if err != nil {
		return nil, err
	}
	hash, err := hasher.Hash(ctx, seedPassword)
	if err != nil {
		return nil, err
	}
	n := s.o.accounts
	ids := make([]string, n)
	now := time.Now().UTC()
	first := now.Add(-3 * 365 * 24 * time.Hour)
	step := now.Sub(first) / time.Duration(n+1)
	w := newWriter(s, sqlstore.AccountsTable, s.bulk.LoadAccounts)
	for i := range n {
		created := first.Add(time.Duration(i+1) * step).Truncate(time.Microsecond)
		id := sqlstore.NewID(created)
		ids[i] = id
		status := storage.Active
		pw := hash
		var changed *time.Time
		switch r := s.rng.IntN(100); {
		case r < 2:
			status, pw = storage.Pending, ""
		case r < 3:
			status = storage.Disabled
		}
		if pw != "" {
			changed = &created
		}
		err := w.add(ctx, storage.Account{ID: id, Kind: storage.Customer, Email: fmt.Sprintf("%s-%d@seed.example", s.o.prefix, i),
			EmailVerified: true, GivenName: givenNames[i%len(givenNames)], FamilyName: familyNames[(i/7)%len(familyNames)],
			Locale: locales[i%len(locales)], Status: status, PasswordHash: pw, PasswordChangedAt: changed,
			Version: 1, CreatedAt: created, UpdatedAt: created})
		if err != nil {
			return nil, err
		}
	}
	return ids, w.finish()
}

// existingSubjects reads up to 100,000 account IDs of the institution, for
// tokens seeded without accounts.
func (s *seeder) existingSubjects(ctx context.Context) ([]string, error) {
	var ids []string
	f := storage.AccountFilter{Limit: 1000}
	for len(ids) < 100000 {
		page, err := s.store.In(s.inst.ID).ListAccounts(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			ids = append(ids, a.ID)
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	if len(ids) == 0 {
		ids = []string{sqlstore.NewID(time.Now())} // grants of an account that is gone
	}
	return ids, nil
}

// Lifetimes of what Usher issues, by default.
const (
	codeLife    = 5 * time.Minute
	accessLife  = time.Hour
	refreshLife = 30 * 24 * time.Hour
)

// tokenStats counts what was written, by state.
type tokenStats struct {
	expired, rotated, active int
}

// seedTokens writes token rows as grants leave them: a shop's sign-ins
// (the used code, its PKCE record, the refresh tokens of every rotation,
// used ones inactive, and the last access token) and back ends' client
// credentials access tokens, issued at random times over the past days.
func (s *seeder) seedTokens(ctx context.Context, subjects []string) error {
	now := time.Now().UTC()
	span := time.Duration(s.o.days) * 24 * time.Hour
	w := newWriter(s, sqlstore.OAuth2Table, s.bulk.LoadOAuth2)
	var st tokenStats
	row := func(kind storage.OAuth2Kind, requestID string, at time.Time, subject string, scopes storage.List, form string,
		session []byte, accessSig string, active bool, expires time.Time, used *time.Time) error {
		if w.total >= s.o.tokens {
			return nil // the last grant is cut short: exactly --tokens rows
		}
		switch {
		case !expires.After(now):
			st.expired++
		case !active:
			st.rotated++
		default:
			st.active++
		}
		return w.add(ctx, storage.OAuth2Record{Kind: kind, Signature: randomSignature(), RequestID: requestID,
			RequestedAt: at, ClientID: s.client, Subject: subject, RequestedScopes: scopes, GrantedScopes: scopes,
			Form: form, Session: session, AccessSignature: accessSig, Active: active, ExpiresAt: expires, UsedAt: used})
	}
	userScopes := storage.List{"openid", "email", "profile", "offline_access"}
	for w.total < s.o.tokens {
		at := now.Add(-time.Duration(s.rng.Int64N(int64(span)))).Truncate(time.Microsecond)
		requestID := uuid.NewString()
		if s.rng.IntN(100) < 30 { // a back end's client credentials token
			sess := s.ccSession(at)
			if err := row(storage.KindAccess, requestID, at, s.client, storage.List{"accounts:read"},
				"grant_type=client_credentials&scope=accounts%3Aread", sess, "", true, at.Add(accessLife), nil); err != nil {
				return err
			}
			continue
		}
		subject := subjects[s.rng.IntN(len(subjects))]
		authForm := "client_id=" + s.client + "&redirect_uri=https%3A%2F%2Fshop.example%2Fcallback" +
			"&response_type=code&scope=openid+email+profile+offline_access"
		used := at.Add(time.Duration(200+s.rng.IntN(800)) * time.Millisecond)
		if err := row(storage.KindCode, requestID, at, subject, userScopes, authForm,
			s.userSession(at, subject, true), "", false, at.Add(codeLife), &used); err != nil {
			return err
		}
		if err := row(storage.KindPKCE, requestID, at, subject, userScopes,
			authForm+"&code_challenge="+randomString(32)+"&code_challenge_method=S256",
			s.userSession(at, subject, true), "", true, at.Add(codeLife), nil); err != nil {
			return err
		}
		// Refresh tokens, rotated every few hours while the customer uses
		// the shop; the last one is active, the access token of the last
		// rotation remains.
		rotations := s.rng.IntN(6)
		issued := used
		accessSig := randomSignature()
		for r := 0; r <= rotations; r++ {
			last := r == rotations
			var usedAt *time.Time
			next := issued.Add(time.Duration(1+s.rng.IntN(12)) * time.Hour)
			if !last {
				if next.After(now) {
					last = true
				} else {
					u := next
					usedAt = &u
				}
			}
			form := "grant_type=authorization_code"
			if r > 0 {
				form = "grant_type=refresh_token"
			}
			if err := row(storage.KindRefresh, requestID, issued, subject, userScopes, form,
				s.userSession(issued, subject, false), accessSig, last, issued.Add(refreshLife), usedAt); err != nil {
				return err
			}
			if last {
				if err := row(storage.KindAccess, requestID, issued, subject, userScopes, form,
					s.userSession(issued, subject, false), "", true, issued.Add(accessLife), nil); err != nil {
					return err
				}
				break
			}
			issued, accessSig = next, randomSignature()
		}
	}
	if err := w.finish(); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "token rows: %d expired (the janitor removes them), %d rotated or used but unexpired, %d active\n",
		st.expired, st.rotated, st.active)
	return nil
}

// userSession is the JSON session of a shop sign-in's records, as the
// provider stores it (about 740 bytes).
func (s *seeder) userSession(at time.Time, subject string, code bool) []byte {
	i := s.rng.IntN(1 << 30)
	email := fmt.Sprintf("%s-%d@seed.example", s.o.prefix, i)
	rat := at.Format(time.RFC3339Nano)
	expires := fmt.Sprintf(`{"access_token":%q,"authorize_code":%q,"refresh_token":%q}`,
		at.Add(accessLife).Format(time.RFC3339), at.Add(codeLife).Format(time.RFC3339Nano),
		at.Add(refreshLife).Format(time.RFC3339))
	if code {
		expires = fmt.Sprintf(`{"authorize_code":%q}`, at.Add(codeLife).Format(time.RFC3339Nano))
	}
	return fmt.Appendf(nil, `{"oidc":{"id_token_claims":{"jti":"","iss":%q,"sub":%q,"aud":null,"nonce":"",`+
		`"exp":"0001-01-01T00:00:00Z","iat":"0001-01-01T00:00:00Z","rat":%q,"auth_time":%q,"at_hash":"","acr":"1",`+
		`"amr":["pwd"],"c_hash":"","ext":{"email":%q,"email_verified":true,"name":"%s %s","sid":%q}},`+
		`"headers":{"extra":{"kid":%q}},"expires_at":%s,"username":%q,"subject":%q},"client_id":%q}`,
		s.issuer, subject, rat, at.Add(-time.Minute).Format(time.RFC3339Nano), email,
		givenNames[i%len(givenNames)], familyNames[i%len(familyNames)], randomString(16), randomString(32),
		expires, email, subject, s.client)
}

// ccSession is the JSON session of a client credentials token.
func (s *seeder) ccSession(at time.Time) []byte {
	return fmt.Appendf(nil, `{"oidc":{"id_token_claims":{"jti":"","iss":"","sub":%q,"aud":null,"nonce":"",`+
		`"exp":"0001-01-01T00:00:00Z","iat":"0001-01-01T00:00:00Z","rat":"0001-01-01T00:00:00Z",`+
		`"auth_time":"0001-01-01T00:00:00Z","at_hash":"","acr":"","amr":null,"c_hash":"","ext":{}},`+
		`"headers":{"extra":{}},"expires_at":{"access_token":%q},"username":"","subject":%q},"client_id":%q}`,
		s.client, at.Add(accessLife).Format(time.RFC3339Nano), s.client, s.client)
}

// printSizes prints the size of the tables on disk.
func (s *seeder) printSizes(ctx context.Context) {
	u, err := s.store.DiskUsage(ctx, sqlstore.AccountsTable, sqlstore.OAuth2Table)
	if err != nil {
		return
	}
	if s.dialect != "postgres" {
		fmt.Fprintf(s.out, "SQLite database: %.1f MiB\n", float64(u.Database)/(1<<20))
		return
	}
	for _, t := range u.Tables {
		fmt.Fprintf(s.out, "%s: %s on disk with its indexes (%s of rows)\n", t.Table, prettySize(t.Total), prettySize(t.Rows))
	}
}

// prettySize writes a size as PostgreSQL's pg_size_pretty does: in the
// largest unit (bytes, kB, MB, GB, TB; steps of 1024) that keeps the
// number under 10,240, rounded half up.
func prettySize(n int64) string {
	if n < 10*1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	n >>= 9 // halves of a kB
	for _, unit := range []string{"kB", "MB", "GB"} {
		if n < 20*1024-1 {
			return fmt.Sprintf("%d %s", (n+1)/2, unit)
		}
		n >>= 10
	}
	return fmt.Sprintf("%d TB", (n+1)/2)
}

// randomSignature is what the provider stores as a token's key: the
// base64url SHA-256 of the token signature.
func randomSignature() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
