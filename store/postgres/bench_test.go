package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store"
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
	for b.Loop() {
		ctx := context.Background()
		db := pgtest.Database(b)
		s, err := postgres.Open(ctx, db+"&pool_max_conns=64", storetest.FastConfig())
		require.NoError(b, err)
		pcfg, err := pgxpool.ParseConfig(db)
		require.NoError(b, err)
		pcfg.MaxConns = storetest.BenchCallers
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		require.NoError(b, err)
		_, err = pool.Exec(ctx, `CREATE TABLE ceiling_events (source text NOT NULL, event_id text NOT NULL,
			received_at timestamptz NOT NULL, PRIMARY KEY (source, event_id))`)
		require.NoError(b, err)

		storetest.BenchIngest(b, "PostgreSQL", s,
			func(e *connector.Engine) storetest.Ingester { return s.Ingester(e) },
			func(ctx context.Context, id string) error {
				_, err := pool.Exec(ctx, `INSERT INTO ceiling_events (source, event_id, received_at) VALUES ($1, $2, $3)
					ON CONFLICT (source, event_id) DO NOTHING`, "php", id, time.Now().UTC())
				return err
			})

		var recorded int
		require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM ingested_events WHERE event_id LIKE 'g-%' OR event_id LIKE 'p-%'`).Scan(&recorded))
		require.Equal(b, 2*storetest.BenchEvents, recorded)
		pool.Close()
		require.NoError(b, s.Close())
	}
}

// BenchmarkBackfill is storetest.BenchBackfill on PostgreSQL: 10,000
// documents over 100 patients into a sink limited to 500 writes/s, with
// every index the documents' writes maintain (the patient-word index of
// migration 00014 among them).
//
//	go test -run '^$' -bench Backfill -benchtime 1x ./store/postgres/
func BenchmarkBackfill(b *testing.B) {
	for b.Loop() {
		storetest.BenchBackfill(b, func(cfg store.Config) (storetest.Store, error) {
			return postgres.Open(context.Background(), pgtest.Database(b), cfg)
		})
	}
}

// BenchmarkPracticeLists lists and searches documents among 100,000.
//
//	go test -run '^$' -bench PracticeLists ./store/postgres/
func BenchmarkPracticeLists(b *testing.B) {
	s, err := postgres.Open(context.Background(), pgtest.Database(b), storetest.FastConfig())
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchPracticeLists(b, s)
}

// BenchmarkAudit is storetest.BenchAudit on PostgreSQL: what an audit
// entry costs, by the size of the batch it is appended in.
//
//	go test -run '^$' -bench Audit -benchtime 1x ./store/postgres/
func BenchmarkAudit(b *testing.B) {
	for b.Loop() {
		s, err := postgres.Open(context.Background(), pgtest.Database(b), storetest.FastConfig())
		require.NoError(b, err)
		storetest.BenchAudit(b, "PostgreSQL", s)
		require.NoError(b, s.Close())
	}
}
