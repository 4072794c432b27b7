package connector

import "context"

// Sink is a system documents are delivered to: a practice platform such as
// Carepatron.
//
// Every call carries an idempotency key. A Sink must give a repeated key
// the effect of one call: the same key with the same request returns the
// first call's result without writing again (a response lost after a
// successful write is then harmless when retried). A write with no SinkID
// must not create a second object for a Ref the Sink already holds: the
// Sink finds it (by the key or by the Ref as an external reference) and
// updates it instead.
//
// Methods are called concurrently, though never concurrently for the same
// patient or document. Errors use the package's classes; anything else is
// retried.
type Sink interface {
	// UpsertPatient creates or updates the patient and returns its id in the
	// Sink.
	UpsertPatient(ctx context.Context, w PatientWrite) (sinkID string, err error)
	// PutDocument creates or updates the document on the patient's record
	// and returns its id in the Sink.
	PutDocument(ctx context.Context, w DocumentWrite) (sinkID string, err error)
	// DeleteDocument removes the document. Deleting what is already gone
	// succeeds.
	DeleteDocument(ctx context.Context, d DocumentDelete) error
}

// PatientWrite is one UpsertPatient call.
type PatientWrite struct {
	Key string
	// SinkID is the patient's id in the Sink from an earlier write; empty
	// for a first write.
	SinkID  string
	Patient Patient
}

// DocumentWrite is one PutDocument call.
type DocumentWrite struct {
	Key string
	// SinkID is the document's id in the Sink from an earlier write; empty
	// for a first write.
	SinkID string
	// PatientSinkID is the Sink's id of the document's patient.
	PatientSinkID string
	Document      Document
}

// DocumentDelete is one DeleteDocument call.
type DocumentDelete struct {
	Key           string
	SinkID        string
	PatientSinkID string
	Ref           Ref
}
