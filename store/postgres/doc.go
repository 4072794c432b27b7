// Package postgres is the store on PostgreSQL, for a service that has
// outgrown one machine: several processes, on several machines, share one
// database and one job queue, with no queue of our own.
//
// [Open] connects with a pgx pool, applies River's migrations and the
// store's own (embedded, with goose, under an advisory lock so that
// replicas starting together migrate once), and returns a [Store]: the
// shared store of package store, which keeps the same tables and columns as
// the SQLite store (identity ids, timestamptz, bytea content, the source's
// raw JSON as json, kept byte for byte) and runs its SQL unchanged, so both
// pass store/storetest.
//
// Jobs run on River's riverpgxv5 driver: workers in every process take
// jobs with FOR UPDATE SKIP LOCKED, a job inserted by one process wakes
// the others at once through LISTEN/NOTIFY, one elected leader runs River's
// maintenance, and its rescuer retries the jobs of a process that died
// (after store.Config.RescueAfter; it looks every 30 seconds).
//
// An ingest group ([store.Store.Ingester]) commits in one statement, one
// round trip: its events, its op keys and its River jobs, with River's
// insert notification.
//
// Progress crosses processes too: give the engine [Store.Progress] as
// connector.Config.Progress, and a progress bar served by one process
// follows a sync run by another.
//
// Reads (store.Store.Read, SearchDocuments) run in READ ONLY transactions.
//
// Document search ([store.Store.SearchDocuments]) uses a tsvector column
// over the title and text/* content, with a GIN index; it indexes words
// the way the SQLite store's FTS5 table does, so both return the same
// documents for the same data.
//
// Errors from Open never show the password; [Redact] masks it in a URL
// for logs.
//
//	s, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), store.Config{})
//	…
//	e, err := connector.New(connector.Config{Store: s, Progress: s.Progress(), …})
//	err = s.Start(ctx, e)
//	ingest := s.Ingester(e) // for the webhook receiver: groups concurrent events
package postgres
