// Package store persists what the sync engine needs and runs its ops, on
// one database: the local copies of patients and documents (the seed's
// patients, healthcare_documents and synchronization_log tables, with users
// for the API), ingested event ids, sink id mappings with their leases,
// source cursors, sync-run progress and op keys.
//
// The ops run as River jobs in the same database, so an op is enqueued in
// the transaction that decided it, and an op's effects commit with its
// completion. A job carries a batch of up to 50 ops of one kind; each op
// is recorded in op_keys when enqueued (a duplicate is skipped) and marked
// done when its effects commit (a retried batch skips it). Pulls share one
// queue, reconciles another, and each sink's deliveries have their own, so
// a slow sink never holds up intake.
//
// Failed ops are retried with the engine's backoff, at least as late as a
// server's Retry-After. A batch whose attempts run out, or that meets a
// permanent error, is a dead letter: [Store.DeadLetters] lists them and
// [Store.Replay] runs one again.
//
// Webhook intake goes through an [Ingester] ([Store.Ingester]), which
// commits the events of concurrent callers in one transaction with the
// semantics of connector.Engine.Ingest: a database commits about as many
// such groups a second as single-row transactions, so intake grows with
// concurrency. A backend that can commit a group in one statement
// implements [GroupWriter] (store/postgres does). [Store.SearchDocuments] filters the local documents by
// patient, type, date and keywords (full-text search on both databases).
//
// The store is also the practice's persistence (practice.Store): users,
// sessions, shares, document requests and the append-only audit log, in
// the same database, so that a change and the ops it enqueues commit
// together. [Store.Write] is a read-write transaction like
// [Store.Update]; [Store.Read] is read-only, and on a backend that is a
// [Reader] (both are) it never waits for a writer: SQLite reads through a
// pool of its own beside its one writing connection, PostgreSQL in READ
// ONLY transactions. A patient's id in the platform sink
// (Config.CarepatronSink) is kept in patients.carepatron_patient_id as its
// mapping is saved.
//
// Work on a schedule is a [Periodic] task (Config.Periodic): a River
// periodic job, enqueued only by River's elected leader, so it runs once
// per interval for all the processes on a database, not once per process.
// The store's own task prunes ingested event ids and the keys of done ops
// older than Config.Retention ([Store.Prune]); the key of an op not done
// is never pruned.
//
//	s, err := sqlite.Open(ctx, path, store.Config{
//		Periodic: []store.Periodic{{Name: "reconcile", Every: 5 * time.Minute,
//			Run: func(ctx context.Context, e *connector.Engine) error {
//				_, err := e.Sync(ctx, "php", "", connector.ActionPoll, false)
//				return err
//			}}},
//		Retention: 30 * 24 * time.Hour,
//	})
//
// [Store] is generic over the database's transaction type and shared by
// the backends: store/sqlite (embedded, the default) and store/postgres
// (several processes on one database). Its SQL is written once, in the
// dialect both accept. store/storetest holds the contract both must keep.
package store
