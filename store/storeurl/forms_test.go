package storeurl_test

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// conninfo writes a postgres:// URL as libpq's keyword=value string, the
// password quoted.
func conninfo(t *testing.T, databaseURL string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	require.NoError(t, err)
	pw, _ := u.User.Password()
	return fmt.Sprintf("host=%s port=%s user=%s password='%s' dbname=%s sslmode=disable",
		u.Hostname(), u.Port(), u.User.Username(), strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw),
		strings.TrimPrefix(u.Path, "/"))
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	require.NoError(t, err)
	return port
}

// TestKeywordValue: a libpq keyword=value DATABASE_URL opens PostgreSQL,
// not a SQLite file of that name.
func TestKeywordValue(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	kv := conninfo(t, pgtest.Database(t))
	s, err := storeurl.Open(ctx, kv, storetest.FastConfig())
	require.NoError(t, err)
	assert.IsType(t, new(postgres.Store), s)
	ingestOne(t, s)
	require.NoError(t, s.Close())

	s, err = storeurl.OpenExisting(ctx, kv, storetest.FastConfig())
	require.NoError(t, err)
	assert.IsType(t, new(postgres.Store), s)
	require.NoError(t, s.Close())

	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	assert.Empty(t, entries, "no SQLite file made")
}

// TestKeywordValueErrors: a keyword=value string that is wrong fails
// without showing any part of its password, quoted or not.
func TestKeywordValueErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	port := closedPort(t)
	const secret = `xK9q Zr7w\'Lp4m`
	for _, c := range []struct {
		name, url string
		want      []string
	}{
		{"nothing listens", "host=127.0.0.1 port=" + port + " user=hr password='" + secret + "' dbname=hr",
			[]string{"connect to host=127.0.0.1 port=" + port + " user=hr password=xxxxx dbname=hr", "refused"}},
		{"unquoted", "user=hr password=xK9q host=127.0.0.1 port=" + port,
			[]string{"password=xxxxx", "refused"}},
		{"spaces around =", "host = 127.0.0.1 port=" + port + " password = 'xK9q' user=hr",
			[]string{"password=xxxxx", "refused"}},
		{"bad port", "host=127.0.0.1 port=nope password='" + secret + "'",
			[]string{"parse database url host=127.0.0.1 port=nope password=xxxxx", "invalid port"}},
		{"unterminated quote", "host=127.0.0.1 password='" + secret,
			[]string{"parse database url (unparsable database url)", "malformed keyword=value"}},
		{"space in an unquoted password", "host=127.0.0.1 password=xK9q Zr7w user=hr",
			[]string{"malformed keyword=value"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, open := range []func(context.Context, string, store.Config) (storeurl.Store, error){storeurl.Open, storeurl.OpenExisting} {
				s, err := open(ctx, c.url, storetest.FastConfig())
				if s != nil {
					s.Close()
				}
				require.Error(t, err)
				msg := fmt.Sprintf("%v %+v", err, err)
				assert.True(t, strings.HasPrefix(err.Error(), "postgres:") || strings.HasPrefix(err.Error(), "storeurl:"), msg)
				for _, w := range c.want {
					assert.Contains(t, msg, w)
				}
				for _, part := range []string{"xK9q", "Zr7w", "Lp4m"} {
					assert.NotContains(t, msg, part)
				}
				t.Log(err)
			}
			entries, err := os.ReadDir(".")
			require.NoError(t, err)
			assert.Empty(t, entries, "no SQLite file made")
		})
	}
}

// TestAmbiguousNames: only a string that starts with a libpq keyword and
// '=' is PostgreSQL; other names with '=' are files, and ./ makes any
// name a file.
func TestAmbiguousNames(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := context.Background()
	for _, c := range []struct{ url, file string }{
		{"file=with=equals.db", "file=with=equals.db"},
		{"./host=records.db", "host=records.db"},
		{"sqlite://user=records.db", "user=records.db"},
		{"Host=records.db", "Host=records.db"}, // libpq's keywords are lower case
	} {
		s, err := storeurl.Open(ctx, c.url, storetest.FastConfig())
		require.NoError(t, err, c.url)
		assert.IsType(t, new(sqlite.Store), s, c.url)
		require.NoError(t, s.Close())
		assert.FileExists(t, filepath.Join(dir, c.file), c.url)
		assert.Equal(t, c.url, storeurl.Redact(c.url), "a file name is shown as it is")
	}

	// user=records.db is PostgreSQL's user, whatever else follows.
	u := "user=records.db host=127.0.0.1 port=" + closedPort(t)
	s, err := storeurl.Open(ctx, u, storetest.FastConfig())
	if s != nil {
		s.Close()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres: connect to "+u)
	assert.NoFileExists(t, filepath.Join(dir, u))
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://app:hunter2@db/records", "postgres://app:xxxxx@db/records"},
		{"postgresql://db/records?user=app&password=hunter2&sslpassword=k3y", "postgresql://db/records?password=xxxxx&sslpassword=xxxxx&user=app"},
		{"postgres://app@db/records", "postgres://app@db/records"},
		{"mysql://app:hunter2@db/records", "mysql://app:xxxxx@db/records"},
		{"host=db user=app password=hunter2 dbname=records", "host=db user=app password=xxxxx dbname=records"},
		{"host=db password='hunter 2' sslpassword = 'k\\'3y'", "host=db password=xxxxx sslpassword=xxxxx"},
		{"  dbname=records password=hunter\\ 2", "dbname=records password=xxxxx"},
		{"host=db password='hunter2", "(unparsable database url)"},
		{"app:hunter2@tcp(db:3306)/records", "app:xxxxx"},
		{"records.db", "records.db"},
		{"/var/lib/hr/records.db", "/var/lib/hr/records.db"},
		{"sqlite:///var/lib/hr/records.db?mode_check=off", "sqlite:///var/lib/hr/records.db?mode_check=off"},
		{"file:records.db", "file:records.db"},
	} {
		assert.Equal(t, c.want, storeurl.Redact(c.in), c.in)
		assert.NotContains(t, storeurl.Redact(c.in), "hunter", c.in)
		assert.NotContains(t, storeurl.Redact(c.in), "k3y", c.in)
	}
}

// TestSharedFile: a SQLite file others may read is refused through a
// database URL too, and sqlite://PATH?mode_check=off accepts it.
func TestSharedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "records.db")
	s, err := storeurl.Open(ctx, "sqlite://"+path, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())

	require.NoError(t, os.Chmod(path, 0o644))
	for _, u := range []string{path, "sqlite://" + path, "file:" + path} {
		for _, open := range []func(context.Context, string, store.Config) (storeurl.Store, error){storeurl.Open, storeurl.OpenExisting} {
			s, err := open(ctx, u, storetest.FastConfig())
			if s != nil {
				s.Close()
			}
			require.ErrorIs(t, err, sqlite.ErrSharedFile, u)
			assert.Contains(t, err.Error(), path+" has mode 0644", u)
			assert.Contains(t, err.Error(), "chmod 600 "+path, u)
		}
	}
	for _, u := range []string{"sqlite://" + path + "?mode_check=off", "file:" + path + "?mode_check=off"} {
		s, err := storeurl.OpenExisting(ctx, u, storetest.FastConfig())
		require.NoError(t, err, u)
		require.NoError(t, s.Close())
	}
}

// TestUnsupportedHidesPassword: a DATABASE_URL of another kind is refused
// without showing its password, whatever its shape.
func TestUnsupportedHidesPassword(t *testing.T) {
	for _, u := range []string{
		"app:hunter2@tcp(db:3306)/records",
		"mysql://app:hunter2@db/records",
		"mysql://db/records?password=hunter2",
		"sqlserver://db?password=hunter2&database=records",
	} {
		for _, open := range []func(context.Context, string, store.Config) (storeurl.Store, error){storeurl.Open, storeurl.OpenExisting} {
			_, err := open(context.Background(), u, storetest.FastConfig())
			require.ErrorIs(t, err, storeurl.ErrUnsupported, u)
			assert.NotContains(t, err.Error(), "hunter2", u)
		}
	}
}
