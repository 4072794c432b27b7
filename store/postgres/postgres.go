package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the store on PostgreSQL. Several processes may open one
// database: they share its job queue, and Progress reaches subscribers in
// all of them.
type Store struct {
	*store.Store[pgx.Tx]
	pool *pgxpool.Pool

	busOnce sync.Once
	bus     *ProgressBus
}

// Defaults for what the URL does not set.
const (
	// DefaultMaxConns is the pool size unless the URL sets pool_max_conns:
	// River's fetchers, completer and listener share the pool with ingest.
	DefaultMaxConns = 20
	// DefaultConnectTimeout bounds each connection attempt unless the URL
	// sets connect_timeout, so that an unreachable server fails Open fast.
	DefaultConnectTimeout = 5 * time.Second
)

// migrationLock is the advisory lock key that serializes migrations when
// several processes open the database at once.
const migrationLock = 0x68725f6d6967 // "hr_mig"

// Open connects to the database at url (postgres://user:password@host/db,
// or libpq's keyword=value form: host=db user=app password=… dbname=hr),
// applies River's and the store's migrations, and returns the store. It
// fails at once when the server cannot be reached or refuses the
// credentials; its errors never contain the password.
func Open(ctx context.Context, url string, cfg store.Config) (*Store, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, redact(parseError(url, err), url, "")
	}
	secret := pcfg.ConnConfig.Password
	where := Redact(url)
	if !strings.Contains(url, "pool_max_conns") {
		pcfg.MaxConns = DefaultMaxConns
	}
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: %s: %w", where, err), url, secret)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, redact(fmt.Errorf("postgres: connect to %s: %w", where, err), url, secret)
	}
	b := &backend{pool: pool, driver: riverpgxv5.New(pool)}
	if err := migrate(ctx, pool, b.driver); err != nil {
		pool.Close()
		return nil, redact(err, url, secret)
	}
	s, err := store.New[pgx.Tx](b, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{Store: s, pool: pool}, nil
}

// Pool returns the connection pool, for queries of the application's own.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Progress returns the store's ProgressBus: pass it as
// connector.Config.Progress so that progress published by any process on
// the database reaches subscribers in every process. Close stops it.
func (s *Store) Progress() connector.ProgressBus {
	s.busOnce.Do(func() { s.bus = NewProgressBus(s.pool) })
	return s.bus
}

// Close stops the progress bus and releases the database. Call Stop first
// if Start was called.
func (s *Store) Close() error {
	s.busOnce.Do(func() {})
	if s.bus != nil {
		s.bus.Close()
	}
	return s.Store.Close()
}

func migrate(ctx context.Context, pool *pgxpool.Pool, driver *riverpgxv5.Driver) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// goose speaks database/sql; the stdlib adapter lends it the pool.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if err := store.Migrate(ctx, driver, db, goose.DialectPostgres, sub); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

type backend struct {
	pool   *pgxpool.Pool
	driver *riverpgxv5.Driver
}

var (
	_ store.Backend[pgx.Tx] = (*backend)(nil)
	_ store.Reader          = (*backend)(nil)
)

func (b *backend) Driver() riverdriver.Driver[pgx.Tx] { return b.driver }

func (b *backend) Close() error {
	b.pool.Close()
	return nil
}

func (b *backend) InTx(ctx context.Context, fn func(pgx.Tx, store.Querier) error) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		return fn(tx, querier{tx})
	})
}

// InReadTx implements store.Reader with a READ ONLY transaction, which
// takes no lock a writer holds.
func (b *backend) InReadTx(ctx context.Context, fn func(store.Querier) error) error {
	return pgx.BeginTxFunc(ctx, b.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return fn(querier{tx})
	})
}

// querier adapts pgx.Tx to store.Querier.
type querier struct{ tx pgx.Tx }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), classify(err)
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return row{q.tx.QueryRow(ctx, query, args...)}
}

func (q querier) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	return q.tx.Query(ctx, query, args...)
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNoRows
	}
	return classify(err)
}

// PostgreSQL's SQLSTATEs for a duplicate key and a broken foreign key.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// classify makes a unique violation a store.ErrUnique and a foreign-key
// violation a store.ErrReferenced.
func classify(err error) error {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case uniqueViolation:
		return fmt.Errorf("%w: %w", store.ErrUnique, err)
	case foreignKeyViolation:
		return fmt.Errorf("%w: %w", store.ErrReferenced, err)
	}
	return err
}

// Redact returns the database URL with its password masked, fit for logs
// and errors: the password and sslpassword of a URL (user info or query)
// or of a libpq keyword=value string (host=db password=xxxxx). A string
// that is neither is masked whole.
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.Scheme == "" {
		if settings, ok := splitConninfo(databaseURL); ok {
			return redactConninfo(settings)
		}
		return "(unparsable database url)"
	}
	if u.Opaque != "" {
		// user:password@tcp(db)/hr parses as the scheme user.
		return u.Scheme + ":" + mask
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), mask)
	}
	q := u.Query()
	masked := false
	for k := range q {
		if secretKeys[k] {
			q.Set(k, mask)
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// mask stands for a password in what Redact returns.
const mask = "xxxxx"

// secretKeys are the connection settings that hold a password.
var secretKeys = map[string]bool{"password": true, "sslpassword": true}

// parseError is the error for a database url pgx cannot parse. pgx masks
// the password of a keyword=value string it cannot parse only as far as it
// can tell where the value ends, so such a string is shown as Redact shows
// it, or not at all.
func parseError(databaseURL string, err error) error {
	var pe *pgconn.ParseConfigError
	lower := strings.ToLower(databaseURL)
	isURL := strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
	if isURL || !errors.As(err, &pe) {
		return fmt.Errorf("postgres: parse database url: %w", err)
	}
	detail := "malformed keyword=value string: put a value with spaces or quotes in single quotes, escaping ' and \\ with \\"
	if _, ok := splitConninfo(databaseURL); ok {
		bare := *pe
		bare.ConnString = ""
		detail = strings.TrimPrefix(bare.Error(), "cannot parse ``: ")
	}
	return &redactedError{msg: fmt.Sprintf("postgres: parse database url %s: %s", Redact(databaseURL), detail), err: err}
}

// conninfoSetting is one keyword=value pair of a libpq connection string,
// with its value as written (raw, quotes and escapes included) and as
// meant (value).
type conninfoSetting struct{ key, raw, value string }

// splitConninfo splits a libpq keyword=value connection string
// (host=db user=app password='a b'), reading quotes and backslash escapes
// as libpq does; ok is false when s is not one.
func splitConninfo(s string) (settings []conninfoSetting, ok bool) {
	const space = " \t\n\r\v\f"
	for s = strings.TrimLeft(s, space); s != ""; s = strings.TrimLeft(s, space) {
		i := strings.IndexAny(s, "="+space)
		if i <= 0 {
			return nil, false
		}
		key := s[:i]
		s = strings.TrimLeft(s[i:], space)
		if !strings.HasPrefix(s, "=") {
			return nil, false
		}
		s = strings.TrimLeft(s[1:], space)
		var val strings.Builder
		end := 0
		if strings.HasPrefix(s, "'") {
			for end = 1; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' && end+1 < len(s) {
					end++
				}
				val.WriteByte(s[end])
			}
			if end == len(s) {
				return nil, false // unterminated quote
			}
			end++
		} else {
			for ; end < len(s) && !strings.ContainsRune(space, rune(s[end])); end++ {
				if s[end] == '\\' && end+1 < len(s) {
					end++
				}
				val.WriteByte(s[end])
			}
		}
		settings = append(settings, conninfoSetting{key: key, raw: s[:end], value: val.String()})
		s = s[end:]
	}
	return settings, len(settings) > 0
}

// redactConninfo writes settings back as a keyword=value string with the
// passwords masked.
func redactConninfo(settings []conninfoSetting) string {
	parts := make([]string, len(settings))
	for i, st := range settings {
		v := st.raw
		if secretKeys[st.key] {
			v = mask
		}
		parts[i] = st.key + "=" + v
	}
	return strings.Join(parts, " ")
}

// redact masks the password of databaseURL (and secret, the password it
// resolved to) wherever err's message would show it.
func redact(err error, databaseURL, secret string) error {
	secrets := []string{secret}
	if u, perr := url.Parse(databaseURL); perr == nil && u.Scheme != "" {
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw, url.PathEscape(pw), url.QueryEscape(pw))
		}
		for k, vs := range u.Query() {
			if secretKeys[k] {
				for _, pw := range vs {
					secrets = append(secrets, pw, url.QueryEscape(pw))
				}
			}
		}
	} else if settings, ok := splitConninfo(databaseURL); ok {
		for _, st := range settings {
			if secretKeys[st.key] {
				secrets = append(secrets, st.raw, st.value)
			}
		}
	}
	// The longest first, so that a quoted password is masked whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, mask)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError shows a message with the password masked and unwraps to
// the original error, for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
