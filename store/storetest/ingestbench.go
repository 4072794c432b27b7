package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/loadtest"
)

// Ingester is what BenchIngest needs of a store's grouped ingest.
type Ingester interface {
	Ingest(ctx context.Context, ev connector.Event) (connector.IngestResult, error)
}

// Ingest benchmark sizes: events per measurement, concurrent callers.
const (
	BenchEvents  = 20000
	BenchCallers = 64
)

// BenchIngest compares, in one run on one database, the events per second
// BenchCallers concurrent callers ingest through the store, one
// transaction per event (Engine.Ingest) and grouped (the store's
// Ingester), with the database's own ceiling: insert commits one
// single-row transaction of the given event id, as the backend's benchmark
// writes it. The ceiling is measured before and after, and the ratios use
// their mean. Event ids of the measured runs start "g-" and "p-".
func BenchIngest(b *testing.B, db string, st Store, grouped func(*connector.Engine) Ingester, insert func(ctx context.Context, eventID string) error) {
	ctx := context.Background()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	e, err := connector.New(connector.Config{Store: st, Sources: map[string]connector.Source{"php": src},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	event := func(run string, i int) connector.Event {
		return connector.Event{ID: fmt.Sprintf("%s-%08d-0123456789abcdef0123456789", run, i), Source: "php",
			Action: connector.ActionWebhook, Changes: []connector.Change{{Kind: connector.ChangeUpsert,
				Ref: src.DocumentRef(fmt.Sprintf("doc-%s-%08d", run, i)), Version: "1"}}}
	}
	run := func(n int, ingest func(i int) error) loadtest.Result {
		r, err := loadtest.Run(n, BenchCallers, ingest)
		require.NoError(b, err)
		return r
	}
	ceiling := func(prefix string) loadtest.Result {
		return run(BenchEvents, func(i int) error { return insert(ctx, event(prefix, i).ID) })
	}
	// Warm both paths up, then measure the ceiling before and after.
	ceiling("warm")
	run(2000, func(i int) error { _, err := e.Ingest(ctx, event("warm", i)); return err })

	before := ceiling("c1")
	g := grouped(e)
	grouping := run(BenchEvents, func(i int) error { _, err := g.Ingest(ctx, event("g", i)); return err })
	plain := run(BenchEvents, func(i int) error { _, err := e.Ingest(ctx, event("p", i)); return err })
	after := ceiling("c2")
	ceil := (before.Rate() + after.Rate()) / 2

	b.Logf("%s, %d events, %d callers:\n"+
		"  ceiling (1 INSERT per tx), before  %s\n"+
		"  ceiling (1 INSERT per tx), after   %s\n"+
		"  Engine.Ingest (1 tx per event)     %s  = %.2f x ceiling\n"+
		"  Store.Ingester (grouped)           %s  = %.2f x ceiling",
		db, BenchEvents, BenchCallers, before, after, plain, plain.Rate()/ceil, grouping, grouping.Rate()/ceil)
	b.ReportMetric(ceil, "ceiling-events/s")
	b.ReportMetric(plain.Rate(), "engine-events/s")
	b.ReportMetric(plain.Rate()/ceil, "engine-ratio")
	b.ReportMetric(grouping.Rate(), "grouped-events/s")
	b.ReportMetric(grouping.Rate()/ceil, "grouped-ratio")
	b.ReportMetric(float64(grouping.P99.Microseconds())/1000, "grouped-p99-ms")
}
