package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// TestReconnect restarts the database (pg_ctl restart -m fast, which
// drops every connection) while events are ingested and jobs run: the
// store reconnects by itself and the work completes, nothing lost, nothing
// delivered twice.
func TestReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the database")
	}
	ctx := context.Background()
	server := pgtest.Server(t)
	if !server.Owned() {
		t.Skip("cannot restart the server DATABASE_URL names")
	}
	cfg := storetest.FastConfig()
	cfg.JobTimeout, cfg.RescueAfter = 5*time.Second, 6*time.Second
	s, err := postgres.Open(ctx, server.CreateDatabase(t), cfg)
	require.NoError(t, err)
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 50})
	_, err = src.Fill(20, 50)
	require.NoError(t, err)
	// A sink slow enough that deliveries are still running at the restart.
	sink := connectortest.NewSink(connectortest.SinkConfig{WriteRate: 400, WriteBurst: 10})
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry, Progress: s.Progress(),
		CallTimeout: 2 * time.Second, LeaseTTL: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.NoError(t, s.Start(ctx, e))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		assert.NoError(t, s.Stop(sctx))
		assert.NoError(t, s.Close())
	})

	g := s.Ingester(e)
	docs := src.Documents()
	var (
		wg      sync.WaitGroup
		work    = make(chan connector.Document)
		mu      sync.Mutex
		retried int
	)
	for range 8 {
		wg.Go(func() {
			for d := range work {
				ev := connector.Event{ID: "chg-" + d.Ref.ID, Source: "php", Changes: []connector.Change{
					{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(d.Ref.ID), Version: d.Version}}}
				// A sender retries until the event is acknowledged.
				for try := 0; ; try++ {
					if _, err := g.Ingest(ctx, ev); err == nil {
						break
					}
					require.Less(t, try, 300, "event %s never acknowledged", ev.ID)
					mu.Lock()
					retried++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	half := make(chan struct{})
	go func() {
		for i, d := range docs {
			if i == len(docs)/2 {
				close(half)
			}
			work <- d
		}
		close(work)
	}()
	// Restart while events keep arriving and jobs keep running.
	<-half
	server.Restart(t)
	t.Logf("restarted the database; %d of %d documents in the sink", len(sink.Documents()), len(docs))
	wg.Wait()

	deadline := time.Now().Add(2 * time.Minute)
	for len(sink.Documents()) < len(docs) {
		require.True(t, time.Now().Before(deadline), "sink holds %d of %d documents", len(sink.Documents()), len(docs))
		time.Sleep(50 * time.Millisecond)
	}
	storetest.WaitIdle(t, s, time.Minute, nil)
	require.NoError(t, sink.Check())
	for _, d := range docs {
		got, ok := sink.Document(d.Ref)
		if assert.True(t, ok, "%s missing", d.Ref) {
			assert.Equal(t, d.Version, got.Document.Version)
		}
	}
	dead, err := s.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
	t.Logf("%d ingest attempts failed during the restart and were retried", retried)
}
