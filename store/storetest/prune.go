package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
)

// Prune deletes ingested event ids and done op keys older than the
// retention, in batches, and keeps newer ones and the key of an op not
// done whatever its age.
func testPrune(t *testing.T, open Opener) {
	ctx := context.Background()
	old := time.Date(2026, 1, 5, 10, 30, 0, 500, time.UTC)
	now := old.Add(40 * 24 * time.Hour)
	clk := &clock{t: old}
	cfg := FastConfig()
	cfg.Now = clk.now
	cfg.Retention = -1 // no periodic pruning under the test's feet
	cfg.PruneBatch = 2 // several batches
	s := startOn(t, open(t, cfg), connectortest.SourceConfig{}, nil).store

	// Reconciles of a source without patients: done as soon as they run.
	reconcile := func(run string) connector.ReconcileOp {
		return connector.ReconcileOp{Source: "php", Action: connector.ActionPoll, Run: run}
	}
	record := func(ops []connector.Op, events ...string) {
		t.Helper()
		update(t, s, func(tx connector.Tx) error {
			for _, id := range events {
				fresh, err := tx.RecordEvent(ctx, "php", id)
				require.NoError(t, err)
				require.True(t, fresh, id)
			}
			skipped, err := tx.Enqueue(ctx, ops...)
			require.Zero(t, skipped)
			return err
		})
	}
	record([]connector.Op{reconcile("old-1"), reconcile("old-2")}, "old-1", "old-2", "old-3")
	WaitIdle(t, s, 10*time.Second, nil)
	clk.set(now)
	record([]connector.Op{reconcile("new-1")}, "new-1", "new-2")
	WaitIdle(t, s, 10*time.Second, nil)
	// An old op that never runs: no worker serves its sink's queue.
	stuck := connector.DeliverOp{Sink: "absent", Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}, Version: "1"}
	clk.set(old)
	record([]connector.Op{stuck})
	clk.set(now)

	p, err := s.Prune(ctx, now.Add(-store.DefaultRetention))
	require.NoError(t, err)
	assert.Equal(t, store.Pruned{Events: 3, OpKeys: 2}, p)

	update(t, s, func(tx connector.Tx) error {
		for id, fresh := range map[string]bool{"old-1": true, "old-3": true, "new-1": false, "new-2": false} {
			got, err := tx.RecordEvent(ctx, "php", id)
			require.NoError(t, err)
			assert.Equal(t, fresh, got, "event %s recorded anew after pruning", id)
		}
		for op, skipped := range map[connector.Op]int{reconcile("old-1"): 0, reconcile("new-1"): 1, stuck: 1} {
			n, err := tx.Enqueue(ctx, op)
			require.NoError(t, err)
			assert.Equal(t, skipped, n, "op %s skipped as a duplicate after pruning", op.UniqueKey())
		}
		return nil
	})

	// What is left is all newer than the cutoff, or not done.
	p, err = s.Prune(ctx, now.Add(-store.DefaultRetention))
	require.NoError(t, err)
	assert.Equal(t, store.Pruned{}, p)
	// A cutoff at now takes the rest of the events, never the stuck key.
	p, err = s.Prune(ctx, now.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, int64(4), p.Events)
	update(t, s, func(tx connector.Tx) error {
		n, err := tx.Enqueue(ctx, stuck)
		assert.Equal(t, 1, n, "the key of an op not done is never pruned")
		return err
	})
}
