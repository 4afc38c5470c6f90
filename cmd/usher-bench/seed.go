package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/usher-idp/usher/flows/password"
	"github.com/usher-idp/usher/provider"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/sqlstore"
)

// usher-bench seed writes many accounts and OAuth2 token rows into one
// institution, fast: COPY on PostgreSQL, multi-row INSERTs in big
// transactions on SQLite, one precomputed argon2id hash for every account.
// The rows look like the ones Usher writes (the same columns, sizes and
// JSON sessions), spread over time: most tokens are expired or rotated,
// some active, so the janitor has work.

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
	fs.IntVar(&o.batch, "batch", 50, "rows per INSERT statement (SQLite; bigger batches need bigger statement journals and are slower)")
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

// seeder writes rows of one institution.
type seeder struct {
	o       seedOptions
	db      *sql.DB
	dialect string
	inst    *storage.Institution
	client  string
	issuer  string
	rng     *mrand.Rand
	out     io.Writer
}

func seed(ctx context.Context, o seedOptions, out io.Writer) error {
	store, err := sqlstore.Open(ctx, o.databaseURL, sqlstore.Options{})
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
		c, _, err := provider.NewClient(provider.ClientSpec{ID: shopID, Name: "Seeded shop",
			RedirectURIs: []string{"https://shop.example/callback"}, FirstParty: true})
		if err != nil {
			return err
		}
		if err := store.In(inst.ID).CreateClient(ctx, c); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	db, err := openRaw(o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	s := &seeder{o: o, db: db, dialect: store.Dialect(), inst: inst, client: shopID, out: out,
		issuer: "https://id.example.org/institutions/" + inst.Slug,
		rng:    mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))}
	fmt.Fprintf(out, "seeding institution %s (%s) on %s: %d accounts, %d token rows\n",
		inst.Slug, inst.ID, s.dialect, o.accounts, o.tokens)
	var subjects []string
	if o.accounts > 0 {
		err := s.load(ctx, "accounts", o.accounts, func() (err error) {
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
		if err := s.load(ctx, "oauth2_tokens", o.tokens, func() error { return s.seedTokens(ctx, subjects) }); err != nil {
			return err
		}
	}
	if s.dialect == "postgres" {
		start := time.Now()
		if _, err := db.ExecContext(ctx, `ANALYZE accounts; ANALYZE oauth2_tokens`); err != nil {
			return fmt.Errorf("analyze: %w", err)
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

// openRaw opens the database as sqlstore does (same driver and options,
// so times are written in the same format), with one connection: a bulk
// load is one stream.
func openRaw(databaseURL string) (*sql.DB, error) {
	scheme, rest, _ := strings.Cut(databaseURL, ":")
	var db *sql.DB
	var err error
	switch scheme {
	case "postgres", "postgresql":
		u, perr := url.Parse(databaseURL)
		if perr != nil {
			return nil, perr
		}
		q := u.Query()
		if q.Get("timezone") == "" {
			q.Set("timezone", "UTC")
		}
		u.RawQuery = q.Encode()
		db, err = sql.Open("postgres", u.String())
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(60000)&_pragma=journal_mode(WAL)"+
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-1048576)&_pragma=temp_store(MEMORY)"+
			"&_txlock=immediate&_time_format=sqlite&_timezone=UTC")
	default:
		return nil, fmt.Errorf("database URL: unsupported scheme %q", scheme)
	}
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// table describes the rows of one table to write.
type table struct {
	name    string
	columns []string
}

var accountsTable = table{"accounts", []string{"id", "institution_id", "kind", "email", "email_key", "email_verified",
	"given_name", "family_name", "locale", "status", "password_hash", "password_changed_at", "password_expires_at",
	"must_change_password", "two_factor_required", "totp_secret", "totp_confirmed_at", "totp_last_step",
	"failed_sign_ins", "last_failed_sign_in_at", "locked_until", "version", "created_at", "updated_at"}}

var tokensTable = table{"oauth2_tokens", []string{"signature", "kind", "institution_id", "request_id", "requested_at",
	"client_id", "subject", "requested_scopes", "granted_scopes", "requested_audience", "granted_audience", "form",
	"session", "access_signature", "active", "expires_at", "used_at"}}

// writer streams rows of a table into the database, a transaction every
// txRows rows.
type writer struct {
	s       *seeder
	t       table
	tx      *sql.Tx
	copy    *sql.Stmt // PostgreSQL
	batch   *sql.Stmt // SQLite: the INSERT of a full batch, prepared once per transaction
	pending [][]any   // SQLite: rows of the next INSERT
	args    []any     // SQLite: reused for every INSERT
	inTx    int
	total   int
	start   time.Time
	report  time.Time
}

func (s *seeder) newWriter(t table) *writer {
	now := time.Now()
	return &writer{s: s, t: t, start: now, report: now}
}

// index is a secondary index: its name and the statement that creates it.
type index struct{ name, create string }

// dropIndexes drops the secondary indexes of a table (not the primary key
// nor unique constraints) and returns them, to be rebuilt after the load:
// building an index once is much faster than inserting millions of random
// keys into it.
func (s *seeder) dropIndexes(ctx context.Context, table string) ([]index, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL
		AND sql NOT LIKE 'CREATE UNIQUE%'`
	if s.dialect == "postgres" {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND schemaname = current_schema()
			AND indexdef NOT LIKE 'CREATE UNIQUE%'`
	}
	rows, err := s.db.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	var out []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.create); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > 0 {
		fmt.Fprintf(s.out, "%s: dropping %d secondary indexes for the load; if it is interrupted, recreate them with:\n", table, len(out))
	}
	for _, ix := range out {
		fmt.Fprintf(s.out, "  %s;\n", ix.create)
	}
	for _, ix := range out {
		if _, err := s.db.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			return out, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	return out, nil
}

// rebuildIndexes creates the dropped indexes again, even when the load was
// interrupted.
func (s *seeder) rebuildIndexes(indexes []index) error {
	var errs []error
	for _, ix := range indexes {
		start := time.Now()
		if _, err := s.db.ExecContext(context.Background(), ix.create); err != nil {
			errs = append(errs, fmt.Errorf("rebuild index %s: %w", ix.name, err))
			continue
		}
		fmt.Fprintf(s.out, "  rebuilt index %s in %.1fs\n", ix.name, time.Since(start).Seconds())
	}
	return errors.Join(errs...)
}

// load runs fill with the table's secondary indexes dropped when the load
// is big, rebuilding them afterwards.
func (s *seeder) load(ctx context.Context, table string, rows int, fill func() error) error {
	if s.o.keepIndexes || rows < 100000 {
		return fill()
	}
	start := time.Now()
	indexes, err := s.dropIndexes(ctx, table)
	if err == nil {
		err = fill()
	}
	if len(indexes) > 0 {
		fmt.Fprintf(s.out, "%s: rebuilding %d indexes\n", table, len(indexes))
		err = errors.Join(err, s.rebuildIndexes(indexes))
		fmt.Fprintf(s.out, "%s: load and index rebuild took %.1fs\n", table, time.Since(start).Seconds())
	}
	return err
}

func (w *writer) add(ctx context.Context, row ...any) error {
	if w.tx == nil {
		if err := w.begin(ctx); err != nil {
			return err
		}
	}
	if w.copy != nil {
		if _, err := w.copy.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("copy into %s: %w", w.t.name, err)
		}
	} else {
		w.pending = append(w.pending, row)
		if len(w.pending) == w.s.o.batch {
			if err := w.insert(ctx); err != nil {
				return err
			}
		}
	}
	w.inTx++
	w.total++
	if w.inTx >= w.s.o.txRows {
		if err := w.commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) begin(ctx context.Context) error {
	tx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	w.tx, w.inTx = tx, 0
	if w.s.dialect == "postgres" {
		w.copy, err = tx.PrepareContext(ctx, "COPY "+w.t.name+" ("+strings.Join(w.t.columns, ", ")+") FROM STDIN")
		if err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("copy into %s: %w", w.t.name, err)
		}
	}
	return nil
}

// insert writes the pending rows in one multi-row INSERT: a full batch
// with the statement prepared for the transaction, the last rows with one
// of their own.
func (w *writer) insert(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	w.args = w.args[:0]
	for _, row := range w.pending {
		w.args = append(w.args, row...)
	}
	full := len(w.pending) == w.s.o.batch
	n := len(w.pending)
	w.pending = w.pending[:0]
	var err error
	if full {
		if w.batch == nil {
			if w.batch, err = w.tx.PrepareContext(ctx, w.insertSQL(n)); err != nil {
				return fmt.Errorf("insert into %s: %w", w.t.name, err)
			}
		}
		_, err = w.batch.ExecContext(ctx, w.args...)
	} else {
		_, err = w.tx.ExecContext(ctx, w.insertSQL(n), w.args...)
	}
	if err != nil {
		return fmt.Errorf("insert into %s: %w", w.t.name, err)
	}
	return nil
}

func (w *writer) insertSQL(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(w.t.columns)), ", ") + ")"
	return "INSERT INTO " + w.t.name + " (" + strings.Join(w.t.columns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

func (w *writer) commit(ctx context.Context) error {
	if w.tx == nil {
		return nil
	}
	if w.copy != nil {
		if _, err := w.copy.ExecContext(ctx); err != nil {
			_ = w.tx.Rollback()
			return fmt.Errorf("copy into %s: %w", w.t.name, err)
		}
		if err := w.copy.Close(); err != nil {
			_ = w.tx.Rollback()
			return err
		}
		w.copy = nil
	} else if err := w.insert(ctx); err != nil {
		_ = w.tx.Rollback()
		return err
	}
	if w.batch != nil {
		w.batch.Close()
		w.batch = nil
	}
	if err := w.tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", w.t.name, err)
	}
	w.tx = nil
	if time.Since(w.report) >= 5*time.Second {
		w.report = time.Now()
		el := time.Since(w.start).Seconds()
		fmt.Fprintf(w.s.out, "  %s: %d rows, %.0f rows/s\n", w.t.name, w.total, float64(w.total)/el)
	}
	return nil
}

func (w *writer) finish(ctx context.Context) error {
	if err := w.commit(ctx); err != nil {
		return err
	}
	el := time.Since(w.start).Seconds()
	fmt.Fprintf(w.s.out, "%s: %d rows in %.1fs, %.0f rows/s\n", w.t.name, w.total, el, float64(w.total)/el)
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
	w := s.newWriter(accountsTable)
	for i := range n {
		created := first.Add(time.Duration(i+1) * step).Truncate(time.Microsecond)
		id := sqlstore.NewID(created)
		ids[i] = id
		email := fmt.Sprintf("%s-%d@seed.example", s.o.prefix, i)
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
		err := w.add(ctx, id, s.inst.ID, string(storage.Customer), email, strings.ToLower(email), true,
			givenNames[i%len(givenNames)], familyNames[(i/7)%len(familyNames)], locales[i%len(locales)],
			string(status), pw, changed, nil, false, false, nil, nil, 0, 0, nil, nil, 1, created, created)
		if err != nil {
			return nil, err
		}
	}
	return ids, w.finish(ctx)
}

// existingSubjects reads up to 100,000 account IDs of the institution, for
// tokens seeded without accounts.
func (s *seeder) existingSubjects(ctx context.Context) ([]string, error) {
	q := `SELECT id FROM accounts WHERE institution_id = ? LIMIT 100000`
	if s.dialect == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	rows, err := s.db.QueryContext(ctx, q, s.inst.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		ids = []string{sqlstore.NewID(time.Now())} // grants of an account that is gone
	}
	return ids, rows.Err()
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
	w := s.newWriter(tokensTable)
	var st tokenStats
	row := func(kind storage.OAuth2Kind, requestID string, at time.Time, subject string, scopes, form string,
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
		return w.add(ctx, randomSignature(), string(kind), s.inst.ID, requestID, at, s.client, subject,
			scopes, scopes, "[]", "[]", form, session, accessSig, active, expires, used)
	}
	const userScopes = `["openid","email","profile","offline_access"]`
	for w.total < s.o.tokens {
		at := now.Add(-time.Duration(s.rng.Int64N(int64(span)))).Truncate(time.Microsecond)
		requestID := uuid.NewString()
		if s.rng.IntN(100) < 30 { // a back end's client credentials token
			sess := s.ccSession(at)
			if err := row(storage.KindAccess, requestID, at, s.client, `["accounts:read"]`,
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
	if err := w.finish(ctx); err != nil {
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
	if s.dialect == "postgres" {
		for _, t := range []string{"accounts", "oauth2_tokens"} {
			var total, heap string
			err := s.db.QueryRowContext(ctx, `SELECT pg_size_pretty(pg_total_relation_size($1)), pg_size_pretty(pg_relation_size($1))`,
				t).Scan(&total, &heap)
			if err == nil {
				fmt.Fprintf(s.out, "%s: %s on disk with its indexes (%s of rows)\n", t, total, heap)
			}
		}
		return
	}
	var pages, size int64
	if s.db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages) == nil &&
		s.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size) == nil {
		fmt.Fprintf(s.out, "SQLite database: %.1f MiB\n", float64(pages*size)/(1<<20))
	}
}

// randomSignature is what the provider stores as a token's key: the
// base64url SHA-256 of the token signature.
func randomSignature() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
