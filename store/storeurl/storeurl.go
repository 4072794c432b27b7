package storeurl

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// Store is what both stores offer the service.
type Store interface {
	connector.Store
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
const Accepted = "postgres://…, postgresql://…, sqlite://PATH or a file path"

// ErrUnsupported means a database URL is of none of the accepted forms.
var ErrUnsupported = errors.New("unsupported database url")

var scheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):`)

// Open opens the store databaseURL names (typically DATABASE_URL):
//   - postgres://… or postgresql://… : PostgreSQL, see postgres.Open;
//   - sqlite://PATH, file:PATH or a plain file path: SQLite, see
//     sqlite.Open (sqlite:///var/lib/hr.db is absolute, sqlite://hr.db
//     relative).
//
// Anything else is an error wrapping ErrUnsupported that names the accepted
// forms. No error shows the password.
func Open(ctx context.Context, databaseURL string, cfg store.Config) (Store, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, fmt.Errorf("storeurl: empty database url: use %s", Accepted)
	}
	m := scheme.FindStringSubmatch(databaseURL)
	if m == nil {
		// No scheme (a Windows drive letter is none either): a file path.
		return openSQLite(ctx, databaseURL, cfg)
	}
	switch strings.ToLower(m[1]) {
	case "postgres", "postgresql":
		s, err := postgres.Open(ctx, databaseURL, cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "sqlite":
		return openSQLite(ctx, strings.TrimPrefix(databaseURL[len(m[0]):], "//"), cfg)
	case "file":
		return openSQLite(ctx, databaseURL, cfg)
	}
	return nil, fmt.Errorf("storeurl: %w %q: use %s", ErrUnsupported, postgres.Redact(databaseURL), Accepted)
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
