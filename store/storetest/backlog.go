package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
)

// health is what a service asks of a store for its metrics and readiness.
type health interface {
	Backlog(ctx context.Context) ([]store.Backlog, error)
	CheckWritable(ctx context.Context) error
}

// Backlog counts the pending jobs of each queue and dates the oldest, and
// forgets a queue once its jobs are done; CheckWritable succeeds on a
// writable database, as often as asked, without a trace in the events a
// sender could name.
func testBacklog(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	h, ok := s.(health)
	require.True(t, ok, "%T has no Backlog and CheckWritable", s)

	got, err := h.Backlog(ctx)
	require.NoError(t, err)
	assert.Empty(t, got, "a new store has no backlog")

	before := time.Now().Add(-time.Second)
	update(t, s, func(tx connector.Tx) error {
		_, err := tx.Enqueue(ctx,
			connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}, Version: "1", Action: connector.ActionWebhook},
			connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d2"}, Version: "1", Action: connector.ActionWebhook},
			connector.ReconcileOp{Source: "php", Action: connector.ActionPoll, Run: "r1"})
		return err
	})
	got, err = h.Backlog(ctx)
	require.NoError(t, err)
	byQueue := map[string]store.Backlog{}
	for _, b := range got {
		byQueue[b.Queue] = b
	}
	require.Contains(t, byQueue, store.QueuePull)
	require.Contains(t, byQueue, store.QueueReconcile)
	assert.Len(t, byQueue, 2, "only queues with pending jobs: %+v", got)
	assert.Positive(t, byQueue[store.QueuePull].Pending)
	assert.Equal(t, 1, byQueue[store.QueueReconcile].Pending)
	for _, b := range got {
		assert.WithinRange(t, b.Oldest, before, time.Now().Add(time.Second), "oldest of %s", b.Queue)
	}

	for range 3 {
		require.NoError(t, h.CheckWritable(ctx))
	}
	update(t, s, func(tx connector.Tx) error {
		fresh, err := tx.RecordEvent(ctx, "php", "hr-health-check")
		assert.True(t, fresh, "the check's row is not an event of a source")
		return err
	})
}
