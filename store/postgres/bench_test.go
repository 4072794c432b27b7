package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/loadtest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkIngest compares, in one run on one database, the events per
// second 64 concurrent callers ingest through the store with the
// database's own ceiling: single-row INSERT … ON CONFLICT DO NOTHING
// transactions of the same event row through pgx at 64 connections.
// It measures Engine.Ingest (one transaction per event) and the store's
// Ingester (concurrent events grouped into one transaction).
//
//	go test -run '^$' -bench Ingest -benchtime 1x ./store/postgres/
func BenchmarkIngest(b *testing.B) {
	const events, callers = 20000, 64
	for b.Loop() {
		ctx := context.Background()
		db := pgtest.Database(b)
		s, err := postgres.Open(ctx, db+"&pool_max_conns=64", storetest.FastConfig())
		require.NoError(b, err)
		src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
		e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(b, err)
		event := func(run string, i int) connector.Event {
			return connector.Event{ID: fmt.Sprintf("%s-%08d-0123456789abcdef0123456789", run, i), Source: "php",
				Action: connector.ActionWebhook, Changes: []connector.Change{{Kind: connector.ChangeUpsert,
					Ref: src.DocumentRef(fmt.Sprintf("doc-%s-%08d", run, i)), Version: "1"}}}
		}

		pcfg, err := pgxpool.ParseConfig(db)
		require.NoError(b, err)
		pcfg.MaxConns = callers
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		require.NoError(b, err)
		_, err = pool.Exec(ctx, `CREATE TABLE ceiling_events (source text NOT NULL, event_id text NOT NULL,
			received_at timestamptz NOT NULL, PRIMARY KEY (source, event_id))`)
		require.NoError(b, err)
		ceiling := func(run string) loadtest.Result {
			r, err := loadtest.Run(events, callers, func(i int) error {
				_, err := pool.Exec(ctx, `INSERT INTO ceiling_events (source, event_id, received_at) VALUES ($1, $2, $3)
					ON CONFLICT (source, event_id) DO NOTHING`, "php", event(run, i).ID, time.Now().UTC())
				return err
			})
			require.NoError(b, err)
			return r
		}
		// Warm both paths up, then measure the ceiling before and after.
		ceiling("warm")
		_, err = loadtest.Run(2000, callers, func(i int) error { _, err := e.Ingest(ctx, event("warm", i)); return err })
		require.NoError(b, err)

		before := ceiling("c1")
		g := s.Ingester(e)
		grouped, err := loadtest.Run(events, callers, func(i int) error { _, err := g.Ingest(ctx, event("g", i)); return err })
		require.NoError(b, err)
		plain, err := loadtest.Run(events, callers, func(i int) error { _, err := e.Ingest(ctx, event("p", i)); return err })
		require.NoError(b, err)
		after := ceiling("c2")
		ceil := (before.Rate() + after.Rate()) / 2

		var recorded int
		require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM ingested_events WHERE event_id LIKE 'g-%' OR event_id LIKE 'p-%'`).Scan(&recorded))
		require.Equal(b, 2*events, recorded)
		pool.Close()
		require.NoError(b, s.Close())

		b.Logf("PostgreSQL, %d events, %d callers:\n"+
			"  ceiling (1 INSERT per tx), before  %s\n"+
			"  ceiling (1 INSERT per tx), after   %s\n"+
			"  Engine.Ingest (1 tx per event)     %s  = %.2f x ceiling\n"+
			"  Store.Ingester (grouped)           %s  = %.2f x ceiling",
			events, callers, before, after, plain, plain.Rate()/ceil, grouped, grouped.Rate()/ceil)
		b.ReportMetric(ceil, "ceiling-events/s")
		b.ReportMetric(plain.Rate(), "engine-events/s")
		b.ReportMetric(plain.Rate()/ceil, "engine-ratio")
		b.ReportMetric(grouped.Rate(), "grouped-events/s")
		b.ReportMetric(grouped.Rate()/ceil, "grouped-ratio")
		b.ReportMetric(float64(grouped.P99.Microseconds())/1000, "grouped-p99-ms")
	}
}
