package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/loadtest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkIngest compares the events per second 64 concurrent callers
// ingest through the store with the database's own ceiling in the same
// run: single-row INSERT … ON CONFLICT DO NOTHING transactions of the same
// event row, on a database file opened as the store opens its own (WAL,
// synchronous NORMAL, one connection, which SQLite's single writer wants).
//
//	go test -run '^$' -bench Ingest -benchtime 1x ./store/sqlite/
func BenchmarkIngest(b *testing.B) {
	const events, callers = 20000, 64
	for b.Loop() {
		ctx := context.Background()
		dir := b.TempDir()
		s, err := sqlite.Open(ctx, filepath.Join(dir, "hr.db"), storetest.FastConfig())
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

		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ceiling.db")+"?"+q.Encode())
		require.NoError(b, err)
		db.SetMaxOpenConns(1)
		_, err = db.Exec(`CREATE TABLE ceiling_events (source TEXT NOT NULL, event_id TEXT NOT NULL,
			received_at DATETIME NOT NULL, PRIMARY KEY (source, event_id))`)
		require.NoError(b, err)
		ceiling := func(run string) loadtest.Result {
			r, err := loadtest.Run(events, callers, func(i int) error {
				_, err := db.ExecContext(ctx, `INSERT INTO ceiling_events (source, event_id, received_at) VALUES ($1, $2, $3)
					ON CONFLICT (source, event_id) DO NOTHING`, "php", event(run, i).ID, time.Now().UTC())
				return err
			})
			require.NoError(b, err)
			return r
		}
		before := ceiling("c1")
		g := s.Ingester(e)
		grouped, err := loadtest.Run(events, callers, func(i int) error { _, err := g.Ingest(ctx, event("g", i)); return err })
		require.NoError(b, err)
		plain, err := loadtest.Run(events, callers, func(i int) error { _, err := e.Ingest(ctx, event("p", i)); return err })
		require.NoError(b, err)
		after := ceiling("c2")
		ceil := (before.Rate() + after.Rate()) / 2
		require.NoError(b, db.Close())
		require.NoError(b, s.Close())

		b.Logf("SQLite, %d events, %d callers:\n"+
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
