package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/healthcare-records/healthcare-records/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the store on SQLite.
type Store = store.Store[*sql.Tx]

// Open opens (creating if needed) the SQLite database at path, applies
// River's and the store's migrations, and returns the store. The database
// runs in WAL mode with a busy timeout and one connection for writes,
// which SQLite's single writer wants anyway, beside a pool of read-only
// connections for the store's reads (Store.Read, SearchDocuments), which
// WAL lets read while the writer writes. A database in memory has only the
// one connection, which its reads share.
//
// The audit log is kept in a second file, path with "-audit" appended
// (hr.db-audit), so that its commits, one every few milliseconds while
// the practice reads, leave the read connections' caches of the records
// warm. The two files are one database: back them up, move and restore
// them together. A database whose audit log's file is missing is refused
// with an error wrapping ErrAuditMissing; a database made before the
// audit log had its file has it moved there by the migrations.
//
// path is a file name as it is, or a file: URI (file:/var/lib/hr.db) whose
// only parameter may be mode_check=off. The files hold patients' data: a
// new one is created readable and writable by its owner only (0600, as
// are the -wal and -shm files), whatever the umask, and an existing one
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
	if err := checkAuditFile(ctx, l); err != nil {
		return nil, err
	}
	if err := prepareFile(auditLocation(l)); err != nil {
		return nil, err
	}
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: dsn(l.path), setup: writerSetup(l)})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	b := &backend{db: db, driver: riversqlite.New(db)}
	if err := migrate(ctx, db, b.driver); err != nil {
		db.Close()
		return nil, err
	}
	if !l.inMemory() {
		// Opened once the writer has made the file (with the mode
		// prepareFile checked) and put it in WAL mode.
		b.reader = openReader(l)
	}
	s, err := store.New[*sql.Tx](b, cfg)
	if err != nil {
		b.Close()
		return nil, err
	}
	return s, nil
}

// readConns is the most read connections open at once: reads are CPU
// work in this driver, so a few more than the processors gain nothing.
func readConns() int { return max(4, runtime.GOMAXPROCS(0)) }

// openReader opens the pool of read-only connections to the database
// file at l.
func openReader(l location) *sql.DB {
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: readDSN(l.path), setup: readerSetup(l)})
	db.SetMaxOpenConns(readConns())
	db.SetMaxIdleConns(readConns())
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db
}

// dsn is the name the writer's connection opens: WAL mode, transactions
// that take the write lock as they begin (so that two never deadlock
// upgrading a read), foreign keys on.
func dsn(path string) string {
	return name(path, url.Values{
		"_pragma": {"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"},
		"_txlock": {"immediate"},
	})
}

// readDSN is the name the read connections open: the file only if it
// exists (mode=rw), so that they never create one past prepareFile's
// checks, with writes refused (query_only) and transactions deferred, so
// that they take no write lock. WAL mode is the file's, set by the writer.
func readDSN(path string) string {
	return name(path, url.Values{
		"_pragma":     {"busy_timeout(10000)", "foreign_keys(1)"},
		"_query_only": {"1"},
		"_txlock":     {"deferred"},
		"mode":        {"rw"},
	})
}

// name is the file: URI of path with the parameters q.
func name(path string, q url.Values) string {
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
	// reader is the pool of read-only connections; nil for a database in
	// memory, whose one connection is db's.
	reader *sql.DB
}

var _ store.Reader = (*backend)(nil)

func (b *backend) Driver() riverdriver.Driver[*sql.Tx] { return b.driver }

func (b *backend) Close() error {
	var err error
	if b.reader != nil {
		err = b.reader.Close()
	}
	return errors.Join(err, b.db.Close())
}

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

// InReadTx implements store.Reader with a deferred transaction on a read
// connection, which in WAL mode reads the last commit beside the writer.
func (b *backend) InReadTx(ctx context.Context, fn func(store.Querier) error) error {
	if b.reader == nil {
		return b.inMemoryReadTx(ctx, fn)
	}
	return readTx(ctx, b.reader, fn)
}

// inMemoryReadTx runs fn in a deferred transaction on the one connection
// of a database in memory, with writes refused while it runs.
func (b *backend) inMemoryReadTx(ctx context.Context, fn func(store.Querier) error) (err error) {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA query_only = 0"); rerr != nil {
			// The connection must not stay read-only for the writers.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, rerr)
		}
	}()
	return readTx(ctx, conn, fn)
}

// readTx runs fn in a read-only transaction begun on db.
func readTx(ctx context.Context, db interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(store.Querier) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(querier{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// querier adapts *sql.Tx to store.Querier.
type querier struct{ tx *sql.Tx }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, classify(err)
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
	return classify(err)
}

// classify makes a unique violation a store.ErrUnique and a foreign-key
// violation a store.ErrReferenced.
func classify(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrUnique, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", store.ErrReferenced, err)
	}
	return err
}

type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }
