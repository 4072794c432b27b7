package sqlite_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/healthcare-records/healthcare-records/connector"
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
	for b.Loop() {
		ctx := context.Background()
		dir := b.TempDir()
		s, err := sqlite.Open(ctx, filepath.Join(dir, "hr.db"), storetest.FastConfig())
		require.NoError(b, err)
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

		storetest.BenchIngest(b, "SQLite", s,
			func(e *connector.Engine) storetest.Ingester { return s.Ingester(e) },
			func(ctx context.Context, id string) error {
				_, err := db.ExecContext(ctx, `INSERT INTO ceiling_events (source, event_id, received_at) VALUES ($1, $2, $3)
					ON CONFLICT (source, event_id) DO NOTHING`, "php", id, time.Now().UTC())
				return err
			})

		require.NoError(b, db.Close())
		require.NoError(b, s.Close())
	}
}
