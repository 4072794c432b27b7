package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"

	"github.com/healthcare-records/healthcare-records/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the store on SQLite.
type Store = store.Store[*sql.Tx]

// Open opens (creating if needed) the SQLite database at path, applies
// River's and the store's migrations, and returns the store. The database
// runs in WAL mode with a busy timeout and one connection, which SQLite's
// single writer wants anyway.
//
// path is a file name as it is, or a file: URI (file:/var/lib/hr.db) whose
// only parameter may be mode_check=off. The file holds patients' data: a
// new one is created readable and writable by its owner only (0600, as
// are its -wal and -shm files), whatever the umask, and an existing one
// that group or others may read or write is refused with an error
// wrapping ErrSharedFile, unless path carries mode_check=off
// (file:/var/lib/hr.db?mode_check=off). The directory must exist.
func Open(ctx context.Context, path string, cfg store.Config) (*Store, error) {
	l, err := parseName(path)
	if err != nil {
		return nil, err
	}
	if err := prepareFile(l); err != nil {
		return nil, err
	}
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: dsn(l.path)})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	b := &backend{db: db, driver: riversqlite.New(db)}
	if err := migrate(ctx, db, b.driver); err != nil {
		db.Close()
		return nil, err
	}
	s, err := store.New[*sql.Tx](b, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func dsn(path string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// Times as "2006-01-02 15:04:05.999999999-07:00", which SQLite's date
	// functions read and which, in UTC as the store writes them, sorts as
	// it reads (the driver's default, time.Time.String, is neither).
	q.Set("_time_format", "sqlite")
	return "file:" + uriPath(path) + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB, driver *riversqlite.Driver) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, driver, db, goose.DialectSQLite3, sub); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

type backend struct {
	db     *sql.DB
	driver *riversqlite.Driver
}

func (b *backend) Driver() riverdriver.Driver[*sql.Tx] { return b.driver }

func (b *backend) Close() error { return b.db.Close() }

func (b *backend) InTx(ctx context.Context, fn func(*sql.Tx, store.Querier) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx, querier{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// querier adapts *sql.Tx to store.Querier.
type querier struct{ tx *sql.Tx }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return row{q.tx.QueryRowContext(ctx, query, args...)}
}

func (q querier) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	rs, err := q.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{rs}, nil
}

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNoRows
	}
	return err
}

type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }
