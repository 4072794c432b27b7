package sqlite_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkBackfillMemory backfills 10,000 and then 100,000 documents of
// 100 patients into a sink that keeps nothing, and reports the peak live
// heap each backfill added over the heap before it, and their ratio:
// memory must stay flat as the work grows (target ≤ 1.2).
//
// The Source makes its documents as they are asked for, so that the heap
// holds no fixture that grows with the work: a garbage collection counts
// what is allocated while it marks as live, and marking a fixture ten
// times larger takes longer, which alone once doubled the larger run's
// peak. Each size runs three times; the reported peak is the highest.
//
//	go test -run '^$' -bench BackfillMemory -benchtime 1x ./store/sqlite/
func BenchmarkBackfillMemory(b *testing.B) {
	for b.Loop() {
		var small, large float64
		for range 3 {
			small = max(small, backfillPeak(b, newSynthSource(100, 100, 0)))
			large = max(large, backfillPeak(b, newSynthSource(100, 1000, 0)))
		}
		b.ReportMetric(small/(1<<20), "peak-10k-MiB")
		b.ReportMetric(large/(1<<20), "peak-100k-MiB")
		b.ReportMetric(large/small, "ratio-100k/10k")
	}
}

// BenchmarkLargeDocuments pulls one patient's twelve 20 MiB documents, as
// one batch, with the default byte budget of a batch and streaming
// threshold, and without either (the engine before them: everything held);
// then documents far larger than a batch's budget, 64 and 200 MiB, which
// are streamed. It reports the peak heap each added.
//
//	go test -run '^$' -bench LargeDocuments -benchtime 1x ./store/sqlite/
func BenchmarkLargeDocuments(b *testing.B) {
	for b.Loop() {
		streamed := backfillPeak(b, newSynthSource(1, 12, 20<<20))
		b.ReportMetric(streamed/(1<<20), "12x20MiB-peak-MiB")
		held := backfillPeak(b, newSynthSource(1, 12, 20<<20), func(c *connector.Config) {
			c.BatchBytes, c.StreamAbove = 1<<40, 1<<40
		})
		b.ReportMetric(held/(1<<20), "12x20MiB-held-peak-MiB")
		for _, size := range []int{64 << 20, 200 << 20} {
			peak := backfillPeak(b, newSynthSource(1, 2, size))
			b.ReportMetric(peak/(1<<20), fmt.Sprintf("2x%dMiB-peak-MiB", size>>20))
		}
	}
}

// backfillPeak enrolls the Source's patients, then syncs them all into a
// sink that reads every document's content and keeps none of it, and
// returns the peak live heap above the heap before the sync.
func backfillPeak(b *testing.B, src *synthSource, tune ...func(*connector.Config)) float64 {
	ctx := context.Background()
	cfg := storetest.FastConfig()
	cfg.DeliverWorkers, cfg.PullWorkers = 8, 8
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), cfg)
	require.NoError(b, err)
	defer s.Close()
	sink := &discardSink{}
	ecfg := connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry, Logger: slog.New(slog.DiscardHandler),
		SpoolDir: b.TempDir()}
	for _, t := range tune {
		t(&ecfg)
	}
	e, err := connector.New(ecfg)
	require.NoError(b, err)
	require.NoError(b, s.Start(ctx, e))
	defer s.Stop(ctx)
	for p := range src.patients {
		ref := src.patientRef(p)
		_, err := e.Ingest(ctx, connector.Event{ID: "p-" + ref.ID, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: ref}}})
		require.NoError(b, err)
	}
	storetest.WaitIdle(b, s, time.Minute, nil)

	runtime.GC()
	base := liveHeap()
	var peak atomic.Uint64
	stop := sampleLive(&peak)
	for p := range src.patients {
		_, err := e.Sync(ctx, "php", src.patientRef(p).ID, connector.ActionManualSync, false)
		require.NoError(b, err)
	}
	want := int64(src.patients * src.each)
	storetest.WaitIdle(b, s, 20*time.Minute, func() bool { return sink.documents.Load() == want })
	stop()
	require.Zero(b, sink.mismatched.Load(), "content delivered other than sealed")
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

// discardSink accepts every write, reads the content of every document
// (as a real sink uploads it) and keeps none of it, so that the heap a
// benchmark measures is the engine's and the store's.
type discardSink struct {
	next, documents, mismatched atomic.Int64
}

func (s *discardSink) UpsertPatient(context.Context, connector.PatientWrite) (string, error) {
	return fmt.Sprint("contact-", s.next.Add(1)), nil
}

func (s *discardSink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	r, err := w.Document.Open(ctx)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", err
	}
	if n != w.Document.Size || hex.EncodeToString(h.Sum(nil)) != w.Document.ContentHash {
		s.mismatched.Add(1)
	}
	if w.SinkID == "" {
		s.documents.Add(1)
	}
	return fmt.Sprint("document-", s.next.Add(1)), nil
}

func (s *discardSink) DeleteDocument(context.Context, connector.DocumentDelete) error { return nil }

// synthSource is a Source of patients × each documents that it makes as
// they are asked for, and so holds none: a document's content is a short
// text, or size bytes streamed as they are read.
type synthSource struct {
	patients, each, size int
}

func newSynthSource(patients, each, size int) *synthSource {
	return &synthSource{patients: patients, each: each, size: size}
}

func (s *synthSource) patientRef(p int) connector.Ref {
	return connector.Ref{System: "php", Type: connector.PatientType, ID: fmt.Sprint("patient-", p)}
}

var synthTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *synthSource) ListDocuments(_ context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	from := 0
	if cursor != "" {
		if _, err := fmt.Sscan(cursor, &from); err != nil {
			return connector.Page{}, fmt.Errorf("%w: cursor %q", connector.ErrInvalid, cursor)
		}
	}
	to := min(from+100, s.each)
	page := connector.Page{Cursor: fmt.Sprint(to), More: to < s.each}
	for i := from; i < to; i++ {
		page.Items = append(page.Items, connector.Item{Ref: connector.Ref{System: "php", Type: "DocumentReference",
			ID: fmt.Sprintf("%s-d%d", patient.ID, i)}, Version: "1", UpdatedAt: synthTime})
	}
	return page, nil
}

func (s *synthSource) FetchDocument(_ context.Context, ref connector.Ref) (*connector.Document, error) {
	var patient string
	var i int
	if k := strings.LastIndex(ref.ID, "-d"); k < 0 {
		return nil, fmt.Errorf("document %s: %w", ref, connector.ErrNotFound)
	} else if _, err := fmt.Sscan(ref.ID[k+2:], &i); err != nil {
		return nil, fmt.Errorf("document %s: %w", ref, connector.ErrNotFound)
	} else {
		patient = ref.ID[:k]
	}
	d := &connector.Document{Ref: ref, Patient: connector.Ref{System: "php", Type: connector.PatientType, ID: patient},
		Type: connector.DocumentProgressNote, Title: fmt.Sprint("Note ", i), Date: synthTime, ContentType: "text/plain",
		Version: "1", UpdatedAt: synthTime}
	if s.size == 0 {
		d.Content = fmt.Appendf(nil, "Synthetic progress note %d of %s: weight stable, diet as agreed.", i, patient)
	} else {
		d.Body = synthBody{size: int64(s.size), seed: byte(i)}
	}
	return d, nil
}

func (s *synthSource) FindPatient(_ context.Context, q connector.PatientQuery) (*connector.Patient, error) {
	return &connector.Patient{Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: q.ID},
		Name: "Synthetic " + q.ID, Version: "1", UpdatedAt: synthTime}, nil
}

// synthBody streams size bytes made as they are read.
type synthBody struct {
	size int64
	seed byte
}

func (b synthBody) Open(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(io.LimitReader(&synthReader{seed: b.seed}, b.size)), nil
}

type synthReader struct {
	seed byte
	n    int
}

func (r *synthReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.n/4093) ^ r.seed
		r.n++
	}
	return len(p), nil
}
