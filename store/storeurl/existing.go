package storeurl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// ErrNoDatabase means OpenExisting found no healthcare-records database
// where the URL points: no SQLite file, or a database without the store's
// tables.
var ErrNoDatabase = errors.New("no database")

// OpenExisting is Open for tools that inspect a database a server made,
// such as an operator's command line: it never creates one. A SQLite file
// that does not exist, and a SQLite file or PostgreSQL database that holds
// no store, are errors wrapping ErrNoDatabase that name where it looked;
// the file is left as it was. An existing store is opened as by Open,
// which applies migrations it lacks.
func OpenExisting(ctx context.Context, databaseURL string, cfg store.Config) (Store, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, fmt.Errorf("storeurl: empty database url: use %s", Accepted)
	}
	var err error
	switch k, name := classify(databaseURL); k {
	case kindSQLite:
		err = sqliteExists(ctx, name)
	case kindPostgres:
		err = postgresExists(ctx, databaseURL)
	}
	if err != nil {
		return nil, err
	}
	return Open(ctx, databaseURL, cfg)
}

// storeTable is a table every migrated store has.
const storeTable = "river_job"

func sqliteExists(ctx context.Context, name string) error {
	path, err := sqlite.FilePath(name)
	if err != nil {
		return err
	}
	if path == ":memory:" {
		return fmt.Errorf("storeurl: %w in memory", ErrNoDatabase)
	}
	if fi, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storeurl: %w at %s", ErrNoDatabase, path)
	} else if err != nil {
		return fmt.Errorf("storeurl: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("storeurl: %w at %s: it is a directory", ErrNoDatabase, path)
	}
	// mode=rw opens the file only if it exists: the check creates nothing.
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "mode=rw"}).String())
	if err != nil {
		return fmt.Errorf("storeurl: sqlite %s: %w", path, err)
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, storeTable).Scan(&n)
	if err != nil {
		return fmt.Errorf("storeurl: sqlite %s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("storeurl: %w at %s: the file holds no healthcare-records store", ErrNoDatabase, path)
	}
	return nil
}

// postgresExists checks that the database is reachable and holds the
// store's tables, before Open would migrate it. A URL that does not parse
// is left to Open, which fails on it before it connects.
func postgresExists(ctx context.Context, url string) error {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil
	}
	pcfg.MaxConns = 1
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = postgres.DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("storeurl: %s: %s", postgres.Redact(url), redact(err, pcfg.ConnConfig.Password))
	}
	defer pool.Close()
	var found bool
	err = pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, storeTable).Scan(&found)
	switch {
	case err != nil:
		return fmt.Errorf("storeurl: connect to %s: %s", postgres.Redact(url), redact(err, pcfg.ConnConfig.Password))
	case !found:
		return fmt.Errorf("storeurl: %w in %s: it holds no healthcare-records store", ErrNoDatabase, postgres.Redact(url))
	}
	return nil
}

// redact is err's message without secret.
func redact(err error, secret string) string {
	if secret == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), secret, "xxxxx")
}
