package storeurl_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{
		filepath.Join(dir, "plain.db"),
		"sqlite://" + filepath.Join(dir, "scheme.db"),
		"file:" + filepath.Join(dir, "file.db"),
	} {
		s, err := storeurl.Open(context.Background(), u, storetest.FastConfig())
		require.NoError(t, err, u)
		assert.IsType(t, new(connector.Hub), storeurl.Progress(s), "SQLite progress stays in process")
		ingestOne(t, s)
		require.NoError(t, s.Close())
	}
	for _, name := range []string{"plain.db", "scheme.db", "file.db"} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
}

func TestOpenPostgres(t *testing.T) {
	db := pgtest.Database(t)
	for _, u := range []string{db, "postgresql" + strings.TrimPrefix(db, "postgres")} {
		s, err := storeurl.Open(context.Background(), u, storetest.FastConfig())
		require.NoError(t, err)
		assert.IsType(t, new(postgres.ProgressBus), storeurl.Progress(s), "Postgres progress crosses processes")
		ingestOne(t, s)
		require.NoError(t, s.Close())
	}
}

var seq atomic.Int64

// ingestOne ingests one event through the store's grouped Ingester.
func ingestOne(t *testing.T, s storeurl.Store) {
	t.Helper()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src}, Progress: storeurl.Progress(s)})
	require.NoError(t, err)
	g := storeurl.NewIngester(s, e)
	assert.NotSame(t, e, g, "the store's grouped Ingester")
	n := seq.Add(1)
	ev := connector.Event{ID: fmt.Sprint("e", n), Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(fmt.Sprint("d", n)), Version: "1"}}}
	res, err := g.Ingest(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, connector.IngestResult{Enqueued: 1}, res)
	res, err = g.Ingest(context.Background(), ev)
	require.NoError(t, err)
	assert.True(t, res.Duplicate)
}

// TestBadConfig: a wrong or unreachable DATABASE_URL fails at once, says
// what is wrong, and never shows the password.
func TestBadConfig(t *testing.T) {
	const secret = "s3cr3t-Pa55word"
	good, err := url.Parse(pgtest.Database(t))
	require.NoError(t, err)
	realPassword, _ := good.User.Password()

	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		return l.Addr().String()
	}()
	with := func(fn func(u *url.URL)) string {
		u := *good
		fn(&u)
		return u.String()
	}
	for _, c := range []struct {
		name, url string
		want      []string
	}{
		{"nothing listens", with(func(u *url.URL) { u.Host = closed; u.User = url.UserPassword("hr", secret) }),
			[]string{"connect to postgres://hr:xxxxx@" + closed, "refused"}},
		{"wrong password", with(func(u *url.URL) { u.User = url.UserPassword("postgres", secret) }),
			[]string{"password authentication failed", "xxxxx"}},
		{"no such database", with(func(u *url.URL) { u.Path = "/nope" }),
			[]string{`database "nope" does not exist`}},
		{"malformed", "postgres://hr:" + secret + "@127.0.0.1:notaport/db",
			[]string{"parse database url"}},
		{"password in the query", "postgres://127.0.0.1:" + strings.Split(closed, ":")[1] + "/db?user=hr&password=" + secret,
			[]string{"password=xxxxx"}},
		{"unsupported scheme", "mysql://hr:" + secret + "@127.0.0.1/db",
			[]string{"unsupported database url", "mysql://hr:xxxxx@127.0.0.1/db", "postgres://", "sqlite://"}},
		{"empty", "", []string{"empty database url", "postgres://"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			begin := time.Now()
			s, err := storeurl.Open(ctx, c.url, storetest.FastConfig())
			if s != nil {
				s.Close()
			}
			require.Error(t, err)
			assert.Less(t, time.Since(begin), 10*time.Second, "fails fast")
			msg := fmt.Sprintf("%v %+v", err, err)
			for _, w := range c.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, msg, secret)
			assert.NotContains(t, msg, realPassword)
			t.Log(err)
		})
	}
}
