package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A database that still answers reads but refuses writes fails
// CheckWritable, naming why, while a read-only transaction (what readiness
// used to ask) still succeeds.
func TestCheckWritableReadOnlyPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	s, err := postgres.Open(ctx, url, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.CheckWritable(ctx))

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$`)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	s.Pool().Reset() // new connections take the database's new default

	err = s.CheckWritable(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read-only")
	assert.NoError(t, readCursor(ctx, s), "reads still succeed: a read cannot tell")
}

// On SQLite the check commits a write, and repeats leave one row.
func TestCheckWritableSQLite(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	for range 3 {
		require.NoError(t, s.CheckWritable(ctx))
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, s.CheckWritable(ctx), context.Canceled)
}

func readCursor(ctx context.Context, s connector.Store) error {
	return s.Update(ctx, func(tx connector.Tx) error {
		_, err := tx.Cursor(ctx, "", "")
		if errors.Is(err, connector.ErrNotFound) {
			return nil
		}
		return err
	})
}
