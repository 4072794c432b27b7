package storetest

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
)

// Backfill benchmark sizes: patients, documents each, and the sink's
// write rate R.
const (
	BenchBackfillPatients  = 100
	BenchBackfillDocuments = 100
	BenchBackfillRate      = 500.0
)

// BenchBackfill syncs BenchBackfillPatients × BenchBackfillDocuments
// documents into a sink limited to BenchBackfillRate writes/s, on a store
// open makes with the config it is given, and reports the rate as a
// fraction of that limit, the peak heap, and the sink calls a following
// re-sync of the unchanged documents makes (it should make none).
func BenchBackfill(b *testing.B, open func(store.Config) (Store, error)) {
	ctx := context.Background()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 100})
	_, err := src.Fill(BenchBackfillPatients, BenchBackfillDocuments)
	require.NoError(b, err)
	sink := connectortest.NewSink(connectortest.SinkConfig{})
	cfg := FastConfig()
	cfg.DeliverWorkers, cfg.PullWorkers = 8, 8
	s, err := open(cfg)
	require.NoError(b, err)
	e, err := connector.New(connector.Config{
		Store: s, Sources: map[string]connector.Source{"php": src}, Sinks: map[string]connector.Sink{"cp": sink},
		Retry: FastRetry, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(b, err)
	require.NoError(b, s.Start(ctx, e))

	// Patients become known the way a dietician adds them: a change event
	// each, synced before the timed backfill.
	for _, p := range src.Patients() {
		_, err := e.Ingest(ctx, connector.Event{ID: "p-" + p.Ref.ID, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.PatientRef(p.Ref.ID)}}})
		require.NoError(b, err)
	}
	WaitIdle(b, s, time.Minute, nil)
	sink.SetWriteRate(BenchBackfillRate, 1)

	var peak atomic.Uint64
	stop := sampleHeap(&peak)
	begin := time.Now()
	for _, p := range src.Patients() {
		_, err := e.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(b, err)
	}
	want := BenchBackfillPatients * BenchBackfillDocuments
	WaitIdle(b, s, 5*time.Minute, func() bool { return len(sink.Documents()) == want })
	elapsed := time.Since(begin)
	stop()
	docsPerSec := float64(want) / elapsed.Seconds()
	b.ReportMetric(docsPerSec, "docs/s")
	b.ReportMetric(docsPerSec/BenchBackfillRate, "fraction-of-R")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")

	calls := sink.Stats().Calls
	for _, p := range src.Patients() {
		_, err := e.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, true)
		require.NoError(b, err)
	}
	WaitIdle(b, s, 5*time.Minute, nil)
	b.ReportMetric(float64(sink.Stats().Calls-calls), "resync-sink-calls")
	require.NoError(b, sink.Check())
	require.NoError(b, s.Stop(ctx))
	require.NoError(b, s.Close())
}

// sampleHeap records the largest live heap seen until the returned stop.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
