package storeurl_test

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/storetest"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// TestOpenExistingSQLite: OpenExisting opens a store a server made and
// refuses, creating nothing, a file that is missing or holds no store.
func TestOpenExistingSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for _, c := range []struct{ url, path string }{
		{missing, missing},
		{"sqlite://" + missing, missing},
		{"file:" + missing, missing},
		{empty, empty},
		{dir, dir},
	} {
		s, err := storeurl.OpenExisting(ctx, c.url, storetest.FastConfig())
		if s != nil {
			s.Close()
		}
		require.ErrorIs(t, err, storeurl.ErrNoDatabase, c.url)
		assert.Contains(t, err.Error(), "no database at "+c.path, c.url)
	}
	assert.NoFileExists(t, missing, "never created")
	fi, err := os.Stat(empty)
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "an empty file is not migrated")

	made := filepath.Join(dir, "made.db")
	s, err := storeurl.Open(ctx, made, storetest.FastConfig())
	require.NoError(t, err)
	ingestOne(t, s)
	require.NoError(t, s.Close())
	for _, u := range []string{made, "sqlite://" + made, "file:" + made} {
		s, err := storeurl.OpenExisting(ctx, u, storetest.FastConfig())
		require.NoError(t, err, u)
		_, err = s.DeadLetters(ctx, 1)
		assert.NoError(t, err)
		require.NoError(t, s.Close())
	}
}

// TestOpenExistingPostgres: a database without the store is refused and
// left without one; an unreachable server is a clear error without the
// password.
func TestOpenExistingPostgres(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t)
	_, err := storeurl.OpenExisting(ctx, db, storetest.FastConfig())
	require.ErrorIs(t, err, storeurl.ErrNoDatabase)
	assert.Contains(t, err.Error(), "holds no healthcare-records store")
	conn, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	var tables int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables))
	conn.Close(ctx)
	assert.Zero(t, tables, "nothing migrated")

	s, err := storeurl.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	s, err = storeurl.OpenExisting(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Close())

	const secret = "s3cr3t-Pa55word"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	u, err := url.Parse(db)
	require.NoError(t, err)
	u.Host, u.User = closed, url.UserPassword("hr", secret)
	_, err = storeurl.OpenExisting(ctx, u.String(), storetest.FastConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connect to postgres://hr:xxxxx@"+closed)
	assert.Contains(t, err.Error(), "refused")
	assert.NotContains(t, err.Error(), secret)
}
