// Package sqlite is the embedded store: a SQLite database (a file, and
// its audit log's file beside it) through the pure-Go modernc.org/sqlite driver (no cgo), with River on its SQLite
// driver running the ops.
//
// The database runs in WAL mode with synchronous=NORMAL, a busy timeout
// and foreign keys on. Writes go through one connection, which SQLite's
// single writer wants anyway, in transactions that take the write lock as
// they begin; reads (store.Store.Read, SearchDocuments) go through a pool
// of read-only connections in deferred transactions, which WAL lets read
// the last commit while the writer writes, so that a page of the practice
// never queues behind the job workers. Connections keep their statements
// prepared, since parsing was half the cost of a job. The audit log has
// a file of its own beside the database (its name with "-audit"
// appended), attached to every connection, so that auditing every read
// does not make the read connections drop their caches of the records;
// back the two files up together. A process crash loses nothing
// committed; an operating-system crash may lose the last commits, which
// the idempotent ops and the periodic reconcile repair. Migrations (River's
// and the store's, embedded) are applied by [Open].
//
// The files hold patients' names, emails and documents, so [Open] creates
// them, and SQLite their -wal and -shm files, readable by the owner only
// (0600), and refuses an existing file that group or others may read or
// write ([ErrSharedFile]) unless the name says mode_check=off:
//
//	sqlite.Open(ctx, "file:/srv/hr/records.db?mode_check=off", cfg)
package sqlite
