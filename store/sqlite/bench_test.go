package sqlite_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkBackfill syncs 10,000 documents over 100 patients into a sink
// limited to 500 writes/s and reports the rate as a fraction of that limit,
// the peak heap, and the sink calls a following re-sync of the unchanged
// documents makes.
//
//	go test -run '^$' -bench Backfill -benchtime 1x ./store/sqlite/
func BenchmarkBackfill(b *testing.B) {
	const patients, each, rate = 100, 100, 500.0
	for b.Loop() {
		ctx := context.Background()
		src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 100})
		_, err := src.Fill(patients, each)
		require.NoError(b, err)
		sink := connectortest.NewSink(connectortest.SinkConfig{})
		cfg := storetest.FastConfig()
		cfg.DeliverWorkers, cfg.PullWorkers = 8, 8
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), cfg)
		require.NoError(b, err)
		e, err := connector.New(connector.Config{
			Store: s, Sources: map[string]connector.Source{"php": src}, Sinks: map[string]connector.Sink{"cp": sink},
			Retry: storetest.FastRetry, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(b, err)
		require.NoError(b, s.Start(ctx, e))

		// Patients become known the way a dietician adds them: a change
		// event each, synced before the timed backfill.
		for _, p := range src.Patients() {
			_, err := e.Ingest(ctx, connector.Event{ID: "p-" + p.Ref.ID, Source: "php",
				Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.PatientRef(p.Ref.ID)}}})
			require.NoError(b, err)
		}
		storetest.WaitIdle(b, s, time.Minute, nil)
		sink.SetWriteRate(rate, 1)

		var peak atomic.Uint64
		stop := sampleHeap(&peak)
		begin := time.Now()
		for _, p := range src.Patients() {
			_, err := e.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
			require.NoError(b, err)
		}
		want := patients * each
		storetest.WaitIdle(b, s, 5*time.Minute, func() bool { return len(sink.Documents()) == want })
		elapsed := time.Since(begin)
		stop()
		docsPerSec := float64(want) / elapsed.Seconds()
		b.ReportMetric(docsPerSec, "docs/s")
		b.ReportMetric(docsPerSec/rate, "fraction-of-R")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")

		calls := sink.Stats().Calls
		for _, p := range src.Patients() {
			_, err := e.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, true)
			require.NoError(b, err)
		}
		storetest.WaitIdle(b, s, 5*time.Minute, nil)
		b.ReportMetric(float64(sink.Stats().Calls-calls), "resync-sink-calls")
		require.NoError(b, sink.Check())
		require.NoError(b, s.Stop(ctx))
		require.NoError(b, s.Close())
	}
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

// BenchmarkPracticeLists lists and searches documents among 100,000.
//
//	go test -run '^$' -bench PracticeLists ./store/sqlite/
func BenchmarkPracticeLists(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), storetest.FastConfig())
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchPracticeLists(b, s)
}
