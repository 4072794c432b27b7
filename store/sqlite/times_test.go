package sqlite_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// The store writes times SQLite's own date functions read, so SQL over
// them (pruning by age, an operator's query) means what it says; a
// database written before, in Go's time.Time.String layout, is rewritten by
// the migration.
func TestTimesReadBySQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hr.db")
	at := time.Date(2026, 1, 5, 10, 30, 0, 123456789, time.UTC)
	cfg := store.Config{Now: func() time.Time { return at }}
	s, err := sqlite.Open(ctx, path, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Update(ctx, func(tx connector.Tx) error {
		_, err := tx.RecordEvent(ctx, "php", "new")
		return err
	}))
	require.NoError(t, s.Close())

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	// One connection, with the audit log attached as the store attaches
	// it, for the migrations.
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`ATTACH DATABASE ? AS audit`, path+"-audit")
	require.NoError(t, err)
	// A row as the store wrote it before, and the schema as it was then.
	_, err = db.Exec(`INSERT INTO ingested_events (source, event_id, received_at) VALUES ('php', 'old', $1)`, at.String())
	require.NoError(t, err)
	migrations, err := fs.Sub(sqlite.Migrations, "migrations")
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrations)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 2)
	require.NoError(t, err)
	var before int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM ingested_events WHERE julianday(received_at) IS NULL`).Scan(&before))
	require.Equal(t, 1, before, "the old layout is one SQLite cannot read")

	s, err = sqlite.Open(ctx, path, cfg) // migrates again
	require.NoError(t, err)
	require.NoError(t, s.Close())
	rows, err := db.Query(`SELECT event_id, CAST(received_at AS TEXT), strftime('%Y-%m-%d %H:%M:%f', received_at) FROM ingested_events ORDER BY event_id`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, raw string
		var read sql.NullString
		require.NoError(t, rows.Scan(&id, &raw, &read))
		assert.Equal(t, "2026-01-05 10:30:00.123456789+00:00", raw, id)
		assert.Equal(t, "2026-01-05 10:30:00.123", read.String, "%s: SQLite reads %q", id, raw)
		n++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 2, n)
}
