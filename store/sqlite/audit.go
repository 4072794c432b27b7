package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
)

// The audit log lives in a database file of its own beside the store's,
// attached to every connection as the schema "audit", so that the store's
// SQL names it audit_log as on PostgreSQL. Every read of patient data is
// audited, so the log takes a commit every few milliseconds, and in WAL
// mode a commit to a file makes every other connection to that file drop
// its page cache at its next read: with the log in the same file, each
// page of documents read its pages from the file again. In a file of its
// own, the log's commits leave the read connections' caches of the
// records warm. Migration 00014 moved the log there.
//
// SQLite makes a transaction atomic in each file of a WAL database, not
// across them. The service appends the log in transactions of their own,
// which touch its file alone; one that writes both (Bootstrap's first
// user, with its entry) may keep the user and lose the entry if the
// machine fails as it commits, as an entry the service still held queued
// would be lost.

// auditSuffix names the audit log's file: the database's name with it
// appended (records.db-audit, with its own -wal and -shm files).
const auditSuffix = "-audit"

// auditVersion is the migration that moved the audit log to its file
// (migrations/00014_audit_file.sql).
const auditVersion = 14

// ErrAuditMissing means the database moved its audit log to its own file
// (the database's name with "-audit" appended) and that file is not
// there: restore it with the database, from the same backup. Open refuses
// to start a new, empty audit log in its place.
var ErrAuditMissing = errors.New("the audit log's file is missing")

// auditLocation is where the audit log of the database at l is kept.
func auditLocation(l location) location {
	if l.inMemory() {
		return l
	}
	return location{path: l.path + auditSuffix, allowShared: l.allowShared}
}

// attachAudit is the statement that attaches the audit log's file to a
// connection; with mode "rw" only if the file exists.
func attachAudit(l location, mode string) string {
	name := ":memory:"
	if !l.inMemory() {
		name = "file:" + uriPath(auditLocation(l).path)
		if mode != "" {
			name += "?mode=" + mode
		}
	}
	return "ATTACH DATABASE '" + strings.ReplaceAll(name, "'", "''") + "' AS audit"
}

// writerSetup is what the writer's connection runs as it opens: the audit
// log's file attached, in WAL mode and as durable as the database.
func writerSetup(l location) []string {
	return []string{attachAudit(l, ""), "PRAGMA audit.journal_mode = WAL", "PRAGMA audit.synchronous = NORMAL"}
}

// readerSetup is what a read connection runs as it opens: the audit log's
// file attached, if it is there, like the database's.
func readerSetup(l location) []string { return []string{attachAudit(l, "rw")} }

// checkAuditFile refuses a database whose audit log moved to a file that
// is not there, rather than start an empty log in its place. It reads the
// database, which must exist, over a connection of its own that attaches
// nothing.
func checkAuditFile(ctx context.Context, l location) error {
	if l.inMemory() {
		return nil
	}
	a := auditLocation(l)
	if _, err := os.Stat(a.path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there, or prepareFile says what is wrong with it
	}
	db := sql.OpenDB(cachingConnector{base: &sqlite.Driver{}, dsn: readDSN(l.path)})
	defer db.Close()
	var migrated, moved bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)`,
		goose.DefaultTablename).Scan(&migrated)
	if err == nil && migrated {
		err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+goose.DefaultTablename+` WHERE version_id = ?)`,
			auditVersion).Scan(&moved)
	}
	switch {
	case err != nil:
		return fmt.Errorf("sqlite: read %s: %w", l.path, err)
	case moved:
		return fmt.Errorf("sqlite: %s keeps its audit log in %s: %w; restore it from the backup the database came from",
			l.path, a.path, ErrAuditMissing)
	}
	return nil
}
