package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

var entry = practice.AuditEntry{Action: practice.ActionReadPatient, Outcome: practice.OutcomeSuccess}

// TestAuditLeavesRecordsCached: an audit entry commits to the audit log's
// file alone, so that a read connection's cache of the records' file
// stays valid (PRAGMA data_version counts others' commits to a file); a
// write of records does not.
func TestAuditLeavesRecordsCached(t *testing.T) {
	ctx := context.Background()
	l := location{path: filepath.Join(t.TempDir(), "hr.db")}
	s, err := Open(ctx, l.path, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	r := openReader(l)
	defer r.Close()
	conn, err := r.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	version := func(schema string) (v int64) {
		t.Helper()
		require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA "+schema+".data_version").Scan(&v))
		return v
	}
	records, audit := version("main"), version("audit")

	require.NoError(t, s.Write(ctx, func(tx practice.Tx) error { return tx.AppendAudit(ctx, entry) }))
	assert.Equal(t, records, version("main"), "the records' file is as it was")
	assert.NotEqual(t, audit, version("audit"), "the audit log's file took the entry")

	require.NoError(t, s.Write(ctx, func(tx practice.Tx) error {
		_, err := tx.CreateUser(ctx, practice.User{Email: "dee@example.org", Name: "Dee", Role: practice.RoleDietician})
		return err
	}))
	assert.NotEqual(t, records, version("main"), "a write of records changes their file")

	var n int
	require.NoError(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM audit.audit_log`).Scan(&n))
	assert.Equal(t, 1, n)
	require.NoError(t, conn.QueryRowContext(ctx,
		`SELECT count(*) FROM main.sqlite_master WHERE name LIKE 'audit_log%'`).Scan(&n))
	assert.Zero(t, n, "the records' file holds no audit log")
}

// TestAuditMigration: the migration moves a database's audit log, ids
// and all, to its own file, and back down; run again over a move that a
// crash cut short, it copies nothing twice.
func TestAuditMigration(t *testing.T) {
	ctx := context.Background()
	l := location{path: filepath.Join(t.TempDir(), "hr.db")}
	for _, f := range []location{l, auditLocation(l)} {
		require.NoError(t, prepareFile(f))
	}
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: dsn(l.path), setup: writerSetup(l)})
	db.SetMaxOpenConns(1)
	defer db.Close()
	sub, err := fs.Sub(migrations, "migrations")
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	require.NoError(t, err)
	exec := func(query string, args ...any) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	}
	count := func(query string) (n int) {
		t.Helper()
		require.NoError(t, db.QueryRowContext(ctx, query).Scan(&n), query)
		return n
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	_, err = p.UpTo(ctx, auditVersion-1)
	require.NoError(t, err)
	for _, detail := range []string{"one", "two", "three"} {
		require.NoError(t, exec(`INSERT INTO main.audit_log (at, action, outcome, detail) VALUES (?, 'patient.read', 'success', ?)`,
			at, detail))
	}
	_, err = p.UpTo(ctx, auditVersion)
	require.NoError(t, err)
	assert.Zero(t, count(`SELECT count(*) FROM main.sqlite_master WHERE name = 'audit_log'`), "moved out")
	assert.Equal(t, 3, count(`SELECT count(*) FROM audit.audit_log WHERE id IN (1, 2, 3) AND at = '2026-03-01 12:00:00+00:00'
		AND detail IN ('one', 'two', 'three')`))
	require.NoError(t, exec(`INSERT INTO audit_log (at, action, outcome) VALUES (?, 'patient.read', 'success')`, at))
	assert.Equal(t, 4, count(`SELECT max(id) FROM audit.audit_log`), "ids go on")
	assert.ErrorContains(t, exec(`UPDATE audit_log SET detail = 'changed'`), "append-only")
	assert.ErrorContains(t, exec(`DELETE FROM audit_log`), "append-only")

	_, err = p.DownTo(ctx, auditVersion-1)
	require.NoError(t, err)
	assert.Zero(t, count(`SELECT count(*) FROM audit.sqlite_master WHERE name = 'audit_log'`), "moved back")
	assert.Equal(t, 4, count(`SELECT count(*) FROM main.audit_log`))

	// A crash after the copy committed, before the drop: both hold the
	// entries, and the move goes on from there.
	var schema string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT sql FROM main.sqlite_master WHERE name = 'audit_log'`).Scan(&schema))
	require.NoError(t, exec(strings.Replace(schema, "audit_log", "audit.audit_log", 1)))
	require.NoError(t, exec(`INSERT INTO audit.audit_log SELECT * FROM main.audit_log WHERE id <= 2`))
	_, err = p.UpTo(ctx, auditVersion)
	require.NoError(t, err)
	assert.Equal(t, 4, count(`SELECT count(*) FROM audit.audit_log`), "nothing twice")
	assert.Zero(t, count(`SELECT count(*) FROM main.sqlite_master WHERE name = 'audit_log'`))
}
