package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store"
)

// TestWriteGroupAtomic: a group whose jobs cannot be written records
// nothing, neither its events nor its op keys, and says why.
func TestWriteGroupAtomic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.Database(t), store.Config{})
	require.NoError(t, err)
	defer s.Close()
	b := &backend{pool: s.pool}
	g := store.IngestGroup{Now: time.Now(), MaxBatch: 50, MaxAttempts: 12,
		Events: []store.GroupEvent{{Source: "php", ID: "e1"}},
		Ops:    []store.GroupOp{{Event: 0, Key: "k1", Queue: store.QueuePull, Kind: "hr_pull", Args: []byte("{not json")}}}
	_, _, err = b.WriteGroup(ctx, g)
	require.ErrorContains(t, err, "postgres: ingest 1 events")

	var events, keys int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ingested_events), (SELECT count(*) FROM op_keys)`).
		Scan(&events, &keys))
	assert.Zero(t, events)
	assert.Zero(t, keys)

	// The same group with its op intact commits all three.
	g.Ops[0].Args = []byte(`{"ref":{"system":"php","type":"DocumentReference","id":"d1"},"action":"webhook"}`)
	fresh, added, err := b.WriteGroup(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, fresh)
	assert.Equal(t, map[string]bool{"k1": true}, added)
	var args string
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT args::text FROM river_job WHERE kind = 'hr_pull'`).Scan(&args))
	assert.JSONEq(t, `{"ops": [{"ref": {"system": "php", "type": "DocumentReference", "id": "d1"}, "action": "webhook"}]}`, args)
}
