package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// jobStore is what the server needs of a store: the engine's persistence,
// and the workers that run its ops. Both store/sqlite and store/postgres
// provide it.
type jobStore interface {
	connector.Store
	Start(ctx context.Context, e *connector.Engine) error
	Stop(ctx context.Context) error
	Close() error
	Idle(ctx context.Context) (bool, error)
}

// database is an open store with what /readyz reports about it.
type database struct {
	jobStore
	// kind is "sqlite" or "postgres", for logs.
	kind string
	// workersStopped is closed once the store's workers stopped (nil
	// before Start).
	workersStopped func() <-chan struct{}
	started        atomic.Bool
}

// openStore opens the database DATABASE_URL names and applies its
// migrations. It accepts a SQLite file path, "sqlite:PATH" or "file:PATH".
//
// When the Postgres store lands, "postgres://" and "postgresql://" URLs
// open it here; nothing else in the server changes.
func openStore(ctx context.Context, databaseURL string, cfg store.Config) (*database, error) {
	name := settingName("DATABASE_URL")
	scheme := ""
	if u, err := url.Parse(databaseURL); err == nil && len(u.Scheme) > 1 {
		scheme = strings.ToLower(u.Scheme)
	}
	switch scheme {
	case "", "sqlite", "file":
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "sqlite:")
		if path == "" {
			return nil, configError{fmt.Errorf("%s: the sqlite URL names no file", name)}
		}
		s, err := sqlite.Open(ctx, path, cfg)
		if err != nil {
			// The path is not a secret; the error names the file.
			return nil, fmt.Errorf("%s: open sqlite database: %w", name, err)
		}
		return &database{jobStore: s, kind: "sqlite", workersStopped: s.River().Stopped}, nil
	case "postgres", "postgresql":
		// The URL may hold a password: it is never quoted.
		return nil, configError{fmt.Errorf("%s: PostgreSQL is not available in this build yet (store/postgres is being written); use a SQLite file path", name)}
	default:
		return nil, configError{fmt.Errorf("%s: unknown database scheme %q: use a SQLite file path", name, scheme)}
	}
}

// Start runs the workers and records that they run.
func (d *database) Start(ctx context.Context, e *connector.Engine) error {
	if err := d.jobStore.Start(ctx, e); err != nil {
		return err
	}
	d.started.Store(true)
	return nil
}

// workersRunning reports whether the store's workers were started and have
// not stopped.
func (d *database) workersRunning() bool {
	if !d.started.Load() {
		return false
	}
	select {
	case <-d.workersStopped():
		return false
	default:
		return true
	}
}

// ping proves the database answers and its schema is migrated: it reads a
// table the store's migrations create.
func (d *database) ping(ctx context.Context) error {
	return d.Update(ctx, func(tx connector.Tx) error {
		_, err := tx.Cursor(ctx, "", "")
		if errors.Is(err, connector.ErrNotFound) {
			return nil
		}
		return err
	})
}

// describeDatabase names the database for logs and the banner without its
// password.
func describeDatabase(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "(unparsable DATABASE_URL)"
	}
	if u.User != nil {
		return u.Redacted()
	}
	return databaseURL
}
