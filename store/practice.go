package store

import (
	"context"
	"errors"

	"github.com/healthcare-records/healthcare-records/practice"
)

var _ practice.Store = (*Store[any])(nil)

var _ practice.Tx = (*tx)(nil)

// errNotYet marks practice.Tx methods not built yet. TEMPORARY.
var errNotYet = errors.New("store: not built yet")

// Write implements practice.Store: one read-write transaction, whose
// enqueued ops commit with it.
func (s *Store[TTx]) Write(ctx context.Context, fn func(practice.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t) })
}

// Read implements practice.Store.
func (s *Store[TTx]) Read(ctx context.Context, fn func(practice.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t) })
}
