package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

func TestPracticeMigration(t *testing.T) {
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: dsn(filepath.Join(t.TempDir(), "hr.db"))})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(migrations, "migrations")
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	require.NoError(t, err)
	storetest.RunPracticeMigration(t, storetest.Migrations{DB: db, Provider: p, Schema: func(ctx context.Context) (string, error) {
		rows, err := db.QueryContext(ctx, `SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, name, def string
			if err := rows.Scan(&typ, &name, &def); err != nil {
				return "", err
			}
			b.WriteString(typ + " " + name + ": " + strings.Join(strings.Fields(def), " ") + "\n")
		}
		return b.String(), rows.Err()
	}})

	// The rebuilt documents table left no trace and broke no reference,
	// and their text is still found.
	ctx := context.Background()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE sql LIKE '%_v5%'`).Scan(&n))
	assert.Zero(t, n)
	rows, err := db.QueryContext(ctx, `PRAGMA foreign_key_check`)
	require.NoError(t, err)
	assert.False(t, rows.Next(), "foreign keys hold")
	require.NoError(t, rows.Close())
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM healthcare_documents d
		WHERE d.id IN (SELECT rowid FROM healthcare_documents_fts WHERE healthcare_documents_fts MATCH 'cholesterol')`).Scan(&n))
	assert.Equal(t, 1, n)
}

// A migration numbered below the last one applied (another change's,
// merged after this database took the later one) is applied all the
// same, as store.Migrate allows out of order.
func TestMigrateOutOfOrder(t *testing.T) {
	ctx := context.Background()
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: dsn(filepath.Join(t.TempDir(), "hr.db"))})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(migrations, "migrations")
	require.NoError(t, err)
	files := fstest.MapFS{}
	names, err := fs.Glob(sub, "*.sql")
	require.NoError(t, err)
	for _, n := range names {
		data, err := fs.ReadFile(sub, n)
		require.NoError(t, err)
		files[n] = &fstest.MapFile{Data: data}
	}
	require.Contains(t, names, "00008_observations.sql")
	_, has7 := files["00007_late.sql"]
	require.False(t, has7)
	driver := riversqlite.New(db)
	require.NoError(t, store.Migrate(ctx, driver, db, goose.DialectSQLite3, files))

	files["00007_late.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE late_seven (id INTEGER);\n" +
		"-- +goose Down\nDROP TABLE late_seven;\n")}
	require.NoError(t, store.Migrate(ctx, driver, db, goose.DialectSQLite3, files), "a missing earlier migration is applied")
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'late_seven'`).Scan(&n))
	assert.Equal(t, 1, n)
}
