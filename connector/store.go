package connector

import (
	"context"
	"time"
)

// Store is what the engine needs persisted. The packages under store/
// implement it on SQLite and PostgreSQL, with River running the ops.
type Store interface {
	// Update runs fn in one read-write transaction and commits it if fn
	// returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Job is one run of a batch of ops, as the store presents it to the
// engine. Ops of a batch are of one kind; each op is done once its effects
// commit with Complete, and a retry of the job runs only the ops not done.
type Job interface {
	// ID identifies the job across its attempts.
	ID() string
	// Attempt counts from 1.
	Attempt() int
	// Final reports whether a failure now leaves the job dead.
	Final() bool
	// Complete runs fn in one transaction that also records the ops in
	// done as done, so that an op's effects and its completion commit
	// together.
	Complete(ctx context.Context, done []Op, fn func(Tx) error) error
}

// Tx is one store transaction. Methods return ErrNotFound for a missing
// row. Local ids are the store's own (the seed tables' primary keys).
type Tx interface {
	// RecordEvent records an ingested event id and reports whether it was
	// new.
	RecordEvent(ctx context.Context, source, id string) (fresh bool, err error)
	// Enqueue persists ops, to run once the transaction commits; an op
	// whose UniqueKey is already queued or done is skipped. It returns how
	// many were skipped.
	Enqueue(ctx context.Context, ops ...Op) (skipped int, err error)

	Patient(ctx context.Context, ref Ref) (StoredPatient, error)
	PatientByID(ctx context.Context, id int64) (StoredPatient, error)
	// SavePatient inserts or updates the patient by its Ref.
	SavePatient(ctx context.Context, p StoredPatient) (id int64, err error)
	// PatientRefs lists the Source refs of every patient of a source that
	// syncs (not archived by the practice).
	PatientRefs(ctx context.Context, source string) ([]Ref, error)

	Document(ctx context.Context, ref Ref) (StoredDocument, error)
	// SaveDocument inserts or updates the document by its Ref.
	SaveDocument(ctx context.Context, d StoredDocument) (id int64, err error)
	// LiveDocuments lists the patient's documents that are not deleted,
	// without their content, in no particular order: those of the
	// patient's Source and those made here (Engine.SaveLocal).
	LiveDocuments(ctx context.Context, patient Ref) ([]Copy, error)
	// Undelivered lists the local copies of the patient and its documents
	// (those made here included) that sink does not hold as they are:
	// never written, or written with another fingerprint, and that were
	// kept before keptBefore (for the patient, first kept). A deleted
	// document the sink never had is not listed.
	Undelivered(ctx context.Context, sink string, patient Ref, keptBefore time.Time) ([]Copy, error)

	// Mapping returns the (sink, ref) mapping; a zero Mapping if none.
	Mapping(ctx context.Context, sink string, ref Ref) (Mapping, error)
	// ClaimMapping leases the (sink, ref) mapping to holder until the given
	// time, creating it if needed; it reports false if another holder's
	// lease is still live.
	ClaimMapping(ctx context.Context, sink string, ref Ref, holder string, until time.Time) (Mapping, bool, error)
	// SaveMapping stores m and releases holder's lease. If another
	// holder's lease is live, it stores nothing and returns ErrBusy.
	SaveMapping(ctx context.Context, m Mapping, holder string) error
	// ReleaseMapping drops holder's lease, if it still holds it.
	ReleaseMapping(ctx context.Context, sink string, ref Ref, holder string) error

	Cursor(ctx context.Context, source string, patient string) (string, error)
	SaveCursor(ctx context.Context, source string, patient string, cursor string) error

	AppendLog(ctx context.Context, e LogEntry) error
	// UpdateRun adds to a run's counters (creating it) and returns its state.
	UpdateRun(ctx context.Context, run string, patientID int64, d RunDelta) (Progress, error)

	// WriteBack returns the state of the write-back of the patient's last
	// edit; the zero WriteBack when it was never edited.
	WriteBack(ctx context.Context, patientID int64) (WriteBack, error)
	// SaveWriteBack records the state of the write-back of the patient's
	// last edit. It changes no other field of the patient.
	SaveWriteBack(ctx context.Context, patientID int64, w WriteBack) error

	// Request returns the document request of an idempotency key.
	Request(ctx context.Context, key string) (StoredRequest, error)
	// OpenRequests lists up to limit requests the provider holds and has
	// not settled (RequestRequested, RequestInProgress) whose ID is
	// greater than after, in ascending ID order.
	OpenRequests(ctx context.Context, after int64, limit int) ([]StoredRequest, error)
	// SaveRequestOutcome records what became of the document request of
	// an idempotency key. A zero o.Task leaves the task recorded before.
	SaveRequestOutcome(ctx context.Context, key string, o RequestOutcome) error
}

// StoredPatient is a patient as kept locally.
type StoredPatient struct {
	ID int64
	Patient
	// Fingerprint summarizes the delivered fields; equal means unchanged.
	Fingerprint string
}

// StoredDocument is a document as kept locally.
type StoredDocument struct {
	ID        int64
	PatientID int64
	Document
	Fingerprint string
}

// Mapping ties a local patient or document to its id in one Sink.
type Mapping struct {
	Sink string
	Ref  Ref
	// SinkID is empty until the first successful write.
	SinkID string
	// Version is the last version written to the sink.
	Version string
	// Fingerprint is that of the last write.
	Fingerprint string
	Deleted     bool
}

// Copy names one local copy of a patient or document, as far as a
// delivery of it needs.
type Copy struct {
	Ref         Ref
	Version     string
	Fingerprint string
	Deleted     bool
	// Saved is when the copy was last kept locally (for a patient, when
	// it was first); zero when unknown.
	Saved time.Time
}

// RunDelta changes a run's progress counters.
type RunDelta struct {
	Total, Done, Errors int
	// DeliveryErrors counts deliveries of the run's documents that failed
	// for good.
	DeliveryErrors int
	// Phase, when set, replaces the run's phase.
	Phase Phase
}
