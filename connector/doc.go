// Package connector is the kernel of healthcare-records: the sync logic
// that keeps a patient's healthcare documents flowing from a Source (a
// Primary Healthcare Provider's EHR) into Sinks (practice platforms such as
// Carepatron), exactly once in effect, whatever crashes, duplicates,
// reordering and outages happen on the way.
//
// # The pieces
//
// Adapters implement two small interfaces. A [Source] lists a patient's
// documents incrementally from an opaque cursor, fetches one document with
// its content, and finds a patient. A [Sink] upserts a patient and puts or
// deletes a document, given an idempotency key and the id the sink gave
// before. Optional abilities are separate interfaces found by type
// assertion: [PatientWriter] (write patient edits back to the source),
// [DocumentRequester] (ask the provider for more documents),
// [RequestTracker] (say what became of such a request) and
// [ObservationSource] (give lab results and vital signs as data, which the
// engine lists and pulls beside the documents into a store that
// implements [ObservationTx]). The
// conformance suites in connector/connectortest prove an adapter keeps the
// contracts in one call.
//
// Errors tell the engine what to do: wrap with [ErrPermanent] (do not
// retry), [ErrNotFound], [ErrConflict], or [RetryAfter] (the server's
// delay); anything else is retried with exponential backoff and jitter
// ([Backoff]).
//
// # Data flow
//
// Change events ([Event], carrying [Change]s) come from webhooks, polling
// or the API and go to [Engine.Ingest], which records the event id and
// enqueues its ops in one transaction: once it returns, the work is
// durable, and a repeated event id enqueues nothing. The ops then run on
// the Store's job runner:
//
//   - pull ([PullOp]): fetch from the Source; keep the local copy only if
//     its version is newer and its content or metadata differs; enqueue one
//     delivery per sink, in the transaction that completes the pull.
//   - deliver ([DeliverOp]): write the latest local copy to one sink with an
//     idempotency key, skipping what the sink already holds; the sink's id
//     and the sync log entry commit with the op's completion.
//   - reconcile ([ReconcileOp]): list what changed for a patient since the
//     saved cursor and pull it, reporting progress ([Progress]) that callers
//     subscribe to through [Engine.Progress].
//
// Ops are at least once; every step is idempotent, so the effect is exactly
// once. Deliveries of one document to one sink are serialized by a lease,
// so an older version never overwrites a newer one.
//
// # Calls in the caller's transaction
//
// A service built on the engine (package practice) changes its own rows
// and asks for the work they cause in the same transaction, so both
// commit or neither: [Engine.Enroll] starts a stored patient's first sync
// under one run; [Engine.EditPatient] saves an edit, delivers it and
// writes it back ([WriteBackOp]), its state a [WriteBack] that pulls
// respect until it is written; [Engine.SaveLocal] keeps and delivers a
// document made here (an upload); [Engine.RequestDocuments] sends a
// document request ([RequestOp]), which [Engine.RefreshRequests] follows
// until the provider completes it and its patient is reconciled.
//
// # Persistence
//
// The kernel imports no database and no job engine. It declares what it
// needs as [Store], [Tx] and [Job]; the packages under store/ provide them
// on SQLite and PostgreSQL with River running the ops.
package connector
