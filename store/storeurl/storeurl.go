package storeurl

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// Store is what both stores offer the service.
type Store interface {
	connector.Store
	practice.Store
	Start(ctx context.Context, e *connector.Engine) error
	Stop(ctx context.Context) error
	Close() error
	Idle(ctx context.Context) (bool, error)
	DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error)
	DeadLetter(ctx context.Context, jobID int64) (store.DeadLetter, error)
	Replay(ctx context.Context, jobID int64) error
	SearchDocuments(ctx context.Context, q store.SearchQuery) ([]store.DocumentSummary, error)
}

var (
	_ Store = (*postgres.Store)(nil)
	_ Store = (*sqlite.Store)(nil)
)

// Accepted describes the forms Open accepts, for messages and flag help.
const Accepted = "postgres://…, postgresql://…, host=… (libpq keyword=value), sqlite://PATH or a file path"

// ErrUnsupported means a database URL is of none of the accepted forms.
var ErrUnsupported = errors.New("unsupported database url")

var scheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):`)

// conninfo matches the start of a libpq keyword=value connection string:
// a keyword libpq knows, then '='. A file name that starts so (host=x.db)
// must be written ./host=x.db or sqlite://host=x.db.
var conninfo = regexp.MustCompile(`^\s*(` + strings.Join([]string{
	"host", "hostaddr", "port", "dbname", "user", "password", "passfile",
	"require_auth", "channel_binding", "connect_timeout", "client_encoding",
	"options", "application_name", "fallback_application_name",
	"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
	"tcp_user_timeout", "replication", "gssencmode", "sslmode", "sslnegotiation",
	"sslcompression", "sslcert", "sslkey", "sslkeylogfile", "sslpassword",
	"sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni",
	"requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version",
	"min_protocol_version", "max_protocol_version", "krbsrvname", "gsslib",
	"gssdelegation", "scram_client_key", "scram_server_key", "service",
	"servicefile", "target_session_attrs", "load_balance_hosts",
}, "|") + `)\s*=`)

// kind is the store a database URL names.
type kind int

const (
	unsupported kind = iota
	kindSQLite
	kindPostgres
)

// classify tells which store databaseURL names and, for SQLite, the name
// to give sqlite.Open.
func classify(databaseURL string) (kind, string) {
	if conninfo.MatchString(databaseURL) {
		return kindPostgres, databaseURL
	}
	m := scheme.FindStringSubmatch(databaseURL)
	if m == nil {
		// No scheme (a Windows drive letter is none either): a file path.
		return kindSQLite, databaseURL
	}
	switch strings.ToLower(m[1]) {
	case "postgres", "postgresql":
		return kindPostgres, databaseURL
	case "sqlite":
		// sqlite://PATH?mode_check=off is the URI file:PATH?mode_check=off.
		return kindSQLite, "file:" + strings.TrimPrefix(databaseURL[len(m[0]):], "//")
	case "file":
		return kindSQLite, databaseURL
	}
	return unsupported, ""
}

// Open opens the store databaseURL names (typically DATABASE_URL):
//   - postgres://… or postgresql://… : PostgreSQL, see postgres.Open;
//   - a libpq keyword=value string that starts with one of libpq's
//     keywords (host=db user=app password=… dbname=hr): PostgreSQL;
//   - sqlite://PATH, file:PATH or any other file path: SQLite, see
//     sqlite.Open (sqlite:///var/lib/hr.db is absolute, sqlite://hr.db
//     relative). sqlite://PATH and file:PATH are URIs: percent-decoded,
//     and their one parameter, mode_check=off, accepts a database file
//     others may read (sqlite:///var/lib/hr.db?mode_check=off). A plain
//     path is the file's name as written. A file whose name starts like
//     a keyword=value string (host=x.db) is written ./host=x.db.
//
// Anything else is an error wrapping ErrUnsupported that names the accepted
// forms. No error shows the password; Redact masks it for logs.
func Open(ctx context.Context, databaseURL string, cfg store.Config) (Store, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, fmt.Errorf("storeurl: empty database url: use %s", Accepted)
	}
	switch k, name := classify(databaseURL); k {
	case kindPostgres:
		s, err := postgres.Open(ctx, databaseURL, cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	case kindSQLite:
		return openSQLite(ctx, name, cfg)
	}
	return nil, fmt.Errorf("storeurl: %w %q: use %s", ErrUnsupported, Redact(databaseURL), Accepted)
}

// Redact returns databaseURL fit for logs and errors: a PostgreSQL URL or
// keyword=value string with its password masked (see postgres.Redact), a
// SQLite path or URI as it is, since it holds no secret.
func Redact(databaseURL string) string {
	if k, _ := classify(databaseURL); k == kindSQLite {
		return databaseURL
	}
	return postgres.Redact(databaseURL)
}

func openSQLite(ctx context.Context, path string, cfg store.Config) (Store, error) {
	s, err := sqlite.Open(ctx, path, cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Ingester is what ingests events: connector.Engine, or a store's grouped
// Ingester (webhook.Ingester is the same method).
type Ingester interface {
	Ingest(ctx context.Context, ev connector.Event) (connector.IngestResult, error)
}

// NewIngester returns the store's Ingester for e, which commits the events
// of concurrent callers together (see store.Ingester), or e itself for a
// store of another kind.
func NewIngester(s Store, e *connector.Engine) Ingester {
	switch s := s.(type) {
	case *postgres.Store:
		return s.Ingester(e)
	case *sqlite.Store:
		return s.Ingester(e)
	}
	return e
}

// Progress returns the ProgressBus to configure the engine with: the
// store's own when it reaches every process on the database (PostgreSQL),
// otherwise an in-process connector.Hub.
func Progress(s Store) connector.ProgressBus {
	if p, ok := s.(interface{ Progress() connector.ProgressBus }); ok {
		return p.Progress()
	}
	return new(connector.Hub)
}
