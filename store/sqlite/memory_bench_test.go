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
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkBackfillMemory backfills 10,000 and then 100,000 documents
// into a sink that reads every document and keeps none, and reports the
// peak live heap each backfill added over the heap before it, and their
// ratio: memory must stay flat as the work grows (target ≤ 1.2).
//
// The 100,000 documents are 100 patients' 1,000 each. The 10,000 are run
// in two shapes: 100 patients' 100 each (ratio-100k/10k), and 10
// patients' 1,000 each, the larger run's patients in the same shape
// (ratio-100k/10k-same-shape), which tells growth with the work apart
// from growth with the documents of one patient.
//
// The live heap is read at the end of every garbage collection. It counts
// what is in flight as the collection marks (batches being fetched and
// kept), which varies from one collection to the next, so the highest
// reading grows with the number of collections alone: a ten times longer
// backfill sees about ten times more of them, and a higher maximum of the
// same spread. The peaks compared are therefore taken over equal spans: a
// 10,000-document backfill runs three times, its peak the median of the
// three maxima; the 100,000-document backfill is cut into spans of as
// many collections as one of those runs had, its peak the median of the
// spans' maxima. What the larger backfill keeps shows as a rise from span
// to span (its first and last spans' maxima are reported), and what it
// keeps for good as the heap retained once it is over. The plain maxima
// are reported beside them.
//
// The Source makes its documents as they are asked for, so that no
// fixture grows with the work: a collection that marks a ten times larger
// fixture takes longer, sees more in flight, and once alone doubled the
// larger backfill's peak.
//
//	go test -run '^$' -bench BackfillMemory -benchtime 1x ./store/sqlite/
func BenchmarkBackfillMemory(b *testing.B) {
	for b.Loop() {
		wide, wideSpan, wideMax := smallBackfills(b, 100, 100)
		deep, deepSpan, deepMax := smallBackfills(b, 10, 1000)
		large := backfill(b, newSynthSource(100, 1000, 0))
		wideSpans, deepSpans := large.spanMaxima(wideSpan), large.spanMaxima(deepSpan)
		b.Logf("100,000 documents: maxima of spans of %d collections (MiB): %.2f", wideSpan, mib(wideSpans))
		b.ReportMetric(wide/(1<<20), "peak-10k-MiB")
		b.ReportMetric(median(wideSpans)/(1<<20), "peak-100k-MiB")
		b.ReportMetric(median(wideSpans)/wide, "ratio-100k/10k")
		b.ReportMetric(deep/(1<<20), "peak-10k-same-shape-MiB")
		b.ReportMetric(median(deepSpans)/deep, "ratio-100k/10k-same-shape")
		b.ReportMetric(wideSpans[0]/(1<<20), "first-span-peak-100k-MiB")
		b.ReportMetric(wideSpans[len(wideSpans)-1]/(1<<20), "last-span-peak-100k-MiB")
		b.ReportMetric(max(wideMax, deepMax)/(1<<20), "max-10k-MiB")
		b.ReportMetric(large.max()/(1<<20), "max-100k-MiB")
		b.ReportMetric(large.retained/(1<<20), "retained-100k-MiB")
		b.ReportMetric(float64(wideSpan), "gc-per-span")
	}
}

// smallBackfills runs a backfill of patients × each documents three
// times, and returns the median of their peaks, the median number of
// collections they saw, and the highest peak.
func smallBackfills(b *testing.B, patients, each int) (peak float64, span int, highest float64) {
	var peaks, cycles []float64
	for range 3 {
		r := backfill(b, newSynthSource(patients, each, 0))
		peaks, cycles = append(peaks, r.max()), append(cycles, float64(len(r.live)))
	}
	return median(peaks), int(median(cycles)), slices.Max(peaks)
}

func mib(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / (1 << 20)
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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

// backfillPeak is the highest live heap of a backfill, above the heap
// before it.
func backfillPeak(b testing.TB, src *synthSource, tune ...func(*connector.Config)) float64 {
	return backfill(b, src, tune...).max()
}

// heapReadings are the live heap, above the heap before a backfill, at
// the end of each garbage collection during it, and what stays live once
// it is over.
type heapReadings struct {
	live     []float64
	retained float64
}

func (h heapReadings) max() float64 { return slices.Max(append([]float64{0}, h.live...)) }

// spanMaxima returns the highest reading of each span of n readings (the
// last one shorter).
func (h heapReadings) spanMaxima(n int) []float64 {
	var out []float64
	for c := range slices.Chunk(h.live, max(n, 1)) {
		out = append(out, slices.Max(c))
	}
	return out
}

// backfill enrolls the Source's patients, then syncs them all into a sink
// that reads every document's content and keeps none of it, reading the
// live heap at the end of each garbage collection.
func backfill(b testing.TB, src *synthSource, tune ...func(*connector.Config)) heapReadings {
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
	stop := sampleLive()
	for p := range src.patients {
		_, err := e.Sync(ctx, "php", src.patientRef(p).ID, connector.ActionManualSync, false)
		require.NoError(b, err)
	}
	want := int64(src.patients * src.each)
	storetest.WaitIdle(b, s, 20*time.Minute, func() bool { return sink.documents.Load() == want })
	readings := stop()
	require.Zero(b, sink.mismatched.Load(), "content delivered other than sealed")
	runtime.GC()
	runtime.GC()
	var h heapReadings
	for _, v := range readings {
		h.live = append(h.live, float64(v)-float64(base))
	}
	h.retained = float64(liveHeap()) - float64(base)
	return h
}

// liveHeap is the heap the last garbage collection found live: what the
// program holds, without the garbage a collection has yet to free.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// sampleLive reads the live heap at the end of every garbage collection
// until the returned stop, which returns the readings.
func sampleLive() (stop func() []uint64) {
	done, finished := make(chan struct{}), make(chan struct{})
	var readings []uint64
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		last := sample[0].Value.Uint64()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if c := sample[0].Value.Uint64(); c != last {
				// One reading per collection seen; two that ended between
				// readings leave the later one's.
				last = c
				readings = append(readings, sample[1].Value.Uint64())
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() []uint64 { close(done); <-finished; return readings }
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
