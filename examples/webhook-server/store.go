package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// database is the open store with what /readyz reports about it.
type database struct {
	storeurl.Store
	// kind is "sqlite" or "postgres", for logs.
	kind string
	// workersStopped is closed once the store's workers stopped (nil
	// before Start).
	workersStopped func() <-chan struct{}
	started        atomic.Bool
	health
}

// health is what the server asks of a store for /readyz and /metrics;
// both stores share it (store.Store).
type health interface {
	Backlog(ctx context.Context) ([]store.Backlog, error)
	CheckWritable(ctx context.Context) error
}

// openStore opens the store DATABASE_URL names (PostgreSQL for
// postgres:// URLs, SQLite for a file path or sqlite://PATH) and applies
// its migrations. Its errors never show the password.
func openStore(ctx context.Context, databaseURL string, cfg store.Config) (*database, error) {
	name := settingName("DATABASE_URL")
	s, err := storeurl.Open(ctx, databaseURL, cfg)
	switch {
	case errors.Is(err, storeurl.ErrUnsupported), errors.Is(err, sqlite.ErrSharedFile):
		return nil, configError{fmt.Errorf("%s: %w", name, err)}
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &database{Store: s}
	switch s := s.(type) {
	case *sqlite.Store:
		d.kind, d.workersStopped = "sqlite", s.River().Stopped
	case *postgres.Store:
		d.kind, d.workersStopped = "postgres", s.River().Stopped
	default:
		_ = s.Close()
		return nil, fmt.Errorf("%s: store %T is not known to the server", name, s)
	}
	d.health = s.(health)
	return d, nil
}

// Start runs the workers and records that they run.
func (d *database) Start(ctx context.Context, e *connector.Engine) error {
	if err := d.Store.Start(ctx, e); err != nil {
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
