//go:build unix

package sqlite_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

// TestNewFileOwnerOnly: a new database and its audit log's file, and the
// -wal and -shm files SQLite makes beside them, are readable by their
// owner only, whatever the umask.
func TestNewFileOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "hr.db")
	s, err := sqlite.Open(context.Background(), path, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	_, err = s.DeadLetters(context.Background(), 1) // the migrations wrote
	require.NoError(t, err)
	for _, name := range []string{path, path + "-wal", path + "-shm", path + "-audit", path + "-audit-wal", path + "-audit-shm"} {
		assert.Equal(t, fs.FileMode(0o600), mode(t, name), name)
	}
}

// TestSharedFileRefused: an existing database that others may read, or
// whose -wal file or audit log's file they may read, is refused with the
// fix, and left as it was; mode_check=off accepts it.
func TestSharedFileRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hr.db")
	s, err := sqlite.Open(ctx, path, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Close())

	for _, c := range []struct {
		name     string
		fileMode fs.FileMode
		// other, when set, is the file beside the database made world
		// readable.
		other string
	}{
		{"world readable", 0o644, ""},
		{"group writable", 0o620, ""},
		{"wal world readable", 0o600, "-wal"},
		{"audit log world readable", 0o600, "-audit"},
		{"audit log's wal world readable", 0o600, "-audit-wal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, os.Chmod(path, c.fileMode))
			bad := path
			if c.other != "" {
				bad = path + c.other
				if _, err := os.Stat(bad); err != nil {
					require.NoError(t, os.WriteFile(bad, nil, 0o600))
					defer os.Remove(bad)
				}
				require.NoError(t, os.Chmod(bad, 0o644))
				defer os.Chmod(bad, 0o600)
			}
			s, err := sqlite.Open(ctx, path, storetest.FastConfig())
			if s != nil {
				s.Close()
			}
			require.ErrorIs(t, err, sqlite.ErrSharedFile)
			assert.Contains(t, err.Error(), fmt.Sprintf("%s has mode %04o", bad, mode(t, bad)))
			assert.Contains(t, err.Error(), "chmod 600 "+bad)
			assert.Contains(t, err.Error(), "mode_check=off")
			assert.Equal(t, c.fileMode, mode(t, path), "left as it was")

			u := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode_check=off"
			s, err = sqlite.Open(ctx, u, storetest.FastConfig())
			require.NoError(t, err, "the override accepts it")
			require.NoError(t, s.Close())
		})
	}
	require.NoError(t, os.Chmod(path, 0o600))
	s, err = sqlite.Open(ctx, path, storetest.FastConfig())
	require.NoError(t, err, "chmod 600 fixes it")
	require.NoError(t, s.Close())
}

// TestAuditFileMissing: a database whose audit log's file is gone is
// refused, naming the file, and no empty log is started in its place; the
// file restored, it opens with its entries.
func TestAuditFileMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hr.db")
	s, err := sqlite.Open(ctx, path, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Write(ctx, func(tx practice.Tx) error { return tx.AppendAudit(ctx, audited) }))
	require.NoError(t, s.Close())
	kept := filepath.Join(dir, "kept")
	require.NoError(t, os.Rename(path+"-audit", kept))

	for range 2 {
		s, err = sqlite.Open(ctx, path, storetest.FastConfig())
		require.ErrorIs(t, err, sqlite.ErrAuditMissing)
		assert.Nil(t, s)
		assert.Contains(t, err.Error(), path+"-audit")
		assert.NoFileExists(t, path+"-audit", "no empty log made")
	}

	require.NoError(t, os.Rename(kept, path+"-audit"))
	s, err = sqlite.Open(ctx, path, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Read(ctx, func(tx practice.Tx) error {
		got, err := tx.Audit(ctx, practice.AuditQuery{})
		assert.Len(t, got, 1)
		return err
	}))
}

// TestNames: a plain path is the file's name as written, so that the
// file checked is the file SQLite opens; a file: URI is decoded, and takes
// no parameter but mode_check.
func TestNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		name, file string
	}{
		{filepath.Join(dir, "a%20b?c#d.db"), filepath.Join(dir, "a%20b?c#d.db")},
		{"file:" + filepath.Join(dir, "e%20f.db"), filepath.Join(dir, "e f.db")},
		{"file://" + filepath.Join(dir, "g.db") + "?mode_check=on", filepath.Join(dir, "g.db")},
		{"file://localhost" + filepath.Join(dir, "h.db"), filepath.Join(dir, "h.db")},
	} {
		got, err := sqlite.FilePath(c.name)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.file, got, c.name)
		s, err := sqlite.Open(ctx, c.name, storetest.FastConfig())
		require.NoError(t, err, c.name)
		require.NoError(t, s.Close())
		assert.Equal(t, fs.FileMode(0o600), mode(t, c.file), c.name)
	}
	for _, c := range []struct{ name, want string }{
		{"", "empty database path"},
		{"file:", "empty database path"},
		{"file:" + filepath.Join(dir, "x.db") + "?cache=shared", `unknown parameter "cache"`},
		{"file:" + filepath.Join(dir, "x.db") + "?mode_check=maybe", "want off or on"},
		{"file://db.example" + filepath.Join(dir, "x.db"), "only a local file"},
		{filepath.Join(dir, "missing", "x.db"), "no such file or directory"},
	} {
		s, err := sqlite.Open(ctx, c.name, storetest.FastConfig())
		if s != nil {
			s.Close()
		}
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
	assert.NoFileExists(t, filepath.Join(dir, "x.db"))
}
