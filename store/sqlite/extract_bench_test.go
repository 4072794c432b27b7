package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/present"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkPullExtraction backfills 2,000 lab-report PDFs (the mock
// provider's, with the text it prints) of 20 patients into a sink that
// reads each and keeps none, with text extraction off and on (present's
// extractor, as the server sets it), three rounds that alternate which
// goes first, and prints the documents a second of each and their ratio
// (the target: at least 0.8).
//
//	go test -run '^$' -bench PullExtraction -benchtime 1x ./store/sqlite/
func BenchmarkPullExtraction(b *testing.B) {
	pdf, err := os.ReadFile(filepath.Join("..", "..", "present", "testdata", "mock-lab.pdf"))
	require.NoError(b, err)
	extract := present.Extractor(present.Limits{})
	for b.Loop() {
		var off, on []float64
		for round := range 3 {
			for k := range 2 {
				if (round+k)%2 == 0 {
					off = append(off, pullRate(b, pdf, nil))
				} else {
					on = append(on, pullRate(b, pdf, extract))
				}
			}
		}
		slices.Sort(off)
		slices.Sort(on)
		fmt.Printf("pull of 2,000 PDFs of %d bytes: extraction off %.0f docs/s %v, on %.0f docs/s %v, ratio of medians %.2f\n",
			len(pdf), off[1], rounded(off), on[1], rounded(on), on[1]/off[1])
		b.ReportMetric(off[1], "off-docs/s")
		b.ReportMetric(on[1], "on-docs/s")
		b.ReportMetric(on[1]/off[1], "on/off")
	}
}

func rounded(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x + 0.5)
	}
	return out
}

// pullRate enrolls 20 patients of 100 PDFs each, syncs them all and
// returns the documents a second from the first sync to the last
// delivery.
func pullRate(b *testing.B, pdf []byte, extract func(context.Context, string, []byte) (string, error)) float64 {
	ctx := context.Background()
	const patients, each = 20, 100
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 100})
	ps, err := src.Fill(patients, each)
	require.NoError(b, err)
	for _, d := range src.Documents() {
		_, err := src.UpdateDocument(d.Ref.ID, func(d *connector.Document) {
			d.Type, d.ContentType, d.Content = connector.DocumentLabResult, "application/pdf", pdf
		})
		require.NoError(b, err)
	}
	cfg := storetest.FastConfig()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), cfg)
	require.NoError(b, err)
	defer s.Close()
	sink := &discardSink{}
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry, Logger: slog.New(slog.DiscardHandler),
		ExtractText: extract})
	require.NoError(b, err)
	require.NoError(b, s.Start(ctx, e))
	defer s.Stop(ctx)
	for _, p := range ps {
		_, err := e.Ingest(ctx, connector.Event{ID: "p-" + p.Ref.ID, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.PatientRef(p.Ref.ID)}}})
		require.NoError(b, err)
	}
	storetest.WaitIdle(b, s, time.Minute, nil)
	start := time.Now()
	for _, p := range ps {
		_, err := e.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(b, err)
	}
	storetest.WaitIdle(b, s, 5*time.Minute, func() bool { return sink.documents.Load() == patients*each })
	took := time.Since(start)
	require.Zero(b, sink.mismatched.Load())
	// With extraction on, the words the PDFs print are found; off, not.
	found, err := s.SearchDocuments(ctx, store.SearchQuery{Text: "northwind accession"})
	require.NoError(b, err)
	require.Equal(b, extract != nil, len(found) > 0, "%d documents found by their printed words", len(found))
	return patients * each / took.Seconds()
}
