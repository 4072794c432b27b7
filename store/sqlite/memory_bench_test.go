package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkBackfillMemory backfills 10,000 and then 100,000 documents of
// 100 patients, each
// into a sink that keeps nothing, and reports the peak heap each backfill
// added over what the Source held before it, and their ratio: memory must
// stay flat as the work grows (target ≤ 1.2).
//
//	go test -run '^$' -bench BackfillMemory -benchtime 1x ./store/sqlite/
func BenchmarkBackfillMemory(b *testing.B) {
	for b.Loop() {
		small := backfillPeak(b, 100, 100, 0)
		large := backfillPeak(b, 100, 1000, 0)
		b.ReportMetric(small/(1<<20), "peak-10k-MiB")
		b.ReportMetric(large/(1<<20), "peak-100k-MiB")
		b.ReportMetric(large/small, "ratio-100k/10k")
	}
}

// BenchmarkLargeDocuments pulls one patient's twelve 20 MiB documents, as
// one batch, with the default byte budget of a batch and without one (the
// engine before the budget), and reports the peak heap each added.
//
//	go test -run '^$' -bench LargeDocuments -benchtime 1x ./store/sqlite/
func BenchmarkLargeDocuments(b *testing.B) {
	for b.Loop() {
		budget := backfillPeak(b, 1, 12, 20<<20)
		b.ReportMetric(budget/(1<<20), "peak-MiB")
		unbounded := backfillPeak(b, 1, 12, 20<<20, func(c *connector.Config) { c.BatchBytes = 1 << 40 })
		b.ReportMetric(unbounded/(1<<20), "unbounded-peak-MiB")
	}
}

// backfillPeak syncs patients × each documents (of size bytes, or the
// Source's small synthetic ones when 0) into a sink that keeps nothing, and
// returns the peak heap in use above the heap before the sync.
func backfillPeak(b *testing.B, patients, each, size int, tune ...func(*connector.Config)) float64 {
	ctx := context.Background()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 100})
	ps, err := src.Fill(patients, each)
	require.NoError(b, err)
	if size > 0 {
		for _, d := range src.Documents() {
			_, err := src.UpdateDocument(d.Ref.ID, func(d *connector.Document) {
				d.Content = bytes.Repeat([]byte{byte(len(d.Ref.ID))}, size)
			})
			require.NoError(b, err)
		}
	}
	cfg := storetest.FastConfig()
	cfg.DeliverWorkers, cfg.PullWorkers = 8, 8
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), cfg)
	require.NoError(b, err)
	defer s.Close()
	sink := &discardSink{}
	ecfg := connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry, Logger: slog.New(slog.DiscardHandler)}
	for _, t := range tune {
		t(&ecfg)
	}
	e, err := connector.New(ecfg)
	require.NoError(b, err)
	require.NoError(b, s.Start(ctx, e))
	defer s.Stop(ctx)
	for _, p := range ps {
		_, err := e.Ingest(ctx, connector.Event{ID: "p-" + p.Ref.ID, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.PatientRef(p.Ref.ID)}}})
		require.NoError(b, err)
	}
	storetest.WaitIdle(b, s, time.Minute, nil)

	runtime.GC()
	base := liveHeap()
	var peak atomic.Uint64
	stop := sampleLive(&peak)
	for _, p := range ps {
		_, err := e.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(b, err)
	}
	want := int64(patients * each)
	storetest.WaitIdle(b, s, 10*time.Minute, func() bool { return sink.documents.Load() == want })
	stop()
	return float64(peak.Load() - min(base, peak.Load()))
}

// liveHeap is the heap the last garbage collection found live: what the
// program holds, without the garbage a collection has yet to free.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// sampleLive records the largest live heap seen until the returned stop.
func sampleLive(peak *atomic.Uint64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := liveHeap(); v > peak.Load() {
				peak.Store(v)
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

// discardSink accepts every write and keeps nothing, so that the heap a
// benchmark measures is the engine's and the store's.
type discardSink struct {
	next, documents atomic.Int64
}

func (s *discardSink) UpsertPatient(context.Context, connector.PatientWrite) (string, error) {
	return fmt.Sprint("contact-", s.next.Add(1)), nil
}

func (s *discardSink) PutDocument(_ context.Context, w connector.DocumentWrite) (string, error) {
	if w.SinkID == "" {
		s.documents.Add(1)
	}
	return fmt.Sprint("document-", s.next.Add(1)), nil
}

func (s *discardSink) DeleteDocument(context.Context, connector.DocumentDelete) error { return nil }
