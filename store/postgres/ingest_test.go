package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storetest"
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
		Ops:    []store.GroupOp{{Event: store.GroupEvent{Source: "php", ID: "e1"}, Key: "k1", Queue: store.QueuePull, Kind: "hr_pull", Args: []byte("{not json")}}}
	_, _, err = b.WriteGroup(ctx, g)
	require.ErrorContains(t, err, "postgres: ingest 1 events")

	var events, keys int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ingested_events), (SELECT count(*) FROM op_keys)`).
		Scan(&events, &keys))
	assert.Zero(t, events)
	assert.Zero(t, keys)

	// The same group with its op intact commits all three, and tells
	// River's listeners of the queue.
	conn, err := s.pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `LISTEN "public.river_insert"`)
	require.NoError(t, err)
	g.Ops[0].Args = []byte(`{"ref":{"system":"php","type":"DocumentReference","id":"d1"},"action":"webhook"}`)
	g.Notify = true
	fresh, added, err := b.WriteGroup(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, map[store.GroupEvent]bool{{Source: "php", ID: "e1"}: true}, fresh)
	assert.Equal(t, map[string]bool{"k1": true}, added)
	var args string
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT args::text FROM river_job WHERE kind = 'hr_pull'`).Scan(&args))
	assert.JSONEq(t, `{"ops": [{"ref": {"system": "php", "type": "DocumentReference", "id": "d1"}, "action": "webhook"}]}`, args)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := conn.Conn().WaitForNotification(wctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"queue": "hr_pull"}`, n.Payload)
}

// TestIngesterWakesWorkers: a job enqueued by a group starts at once, not
// at the next poll of its queue.
func TestIngesterWakesWorkers(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.FastConfig()
	cfg.FetchPollInterval = time.Minute
	s, err := Open(ctx, pgtest.Database(t), cfg)
	require.NoError(t, err)
	defer s.Close()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	_, err = src.Fill(1, 1)
	require.NoError(t, err)
	sink := connectortest.NewSink(connectortest.SinkConfig{})
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}})
	require.NoError(t, err)
	require.NoError(t, s.Start(ctx, e))
	defer s.Stop(ctx)
	time.Sleep(time.Second) // the workers' first fetch, at start, finds nothing

	d := src.Documents()[0]
	start := time.Now()
	_, err = s.Ingester(e).Ingest(ctx, connector.Event{ID: "e1", Source: "php",
		Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: d.Ref, Version: d.Version}}})
	require.NoError(t, err)
	for time.Since(start) < 20*time.Second {
		if _, ok := sink.Document(d.Ref); ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, ok := sink.Document(d.Ref)
	require.True(t, ok, "the document never reached the sink")
	assert.Less(t, time.Since(start), 10*time.Second, "delivered only at a poll")
}
