package connector

import (
	"context"
	"time"
)

// PatientType is the Ref.Type of patients. Refs of any other type name
// documents.
const PatientType = "Patient"

// Source is a system documents come from: a Primary Healthcare Provider's EHR.
//
// Refs the engine passes to a Source carry the name the Source was
// registered under in Ref.System. What a Source returns may leave
// Ref.System empty; the engine fills it in.
//
// Methods are called concurrently from several workers and must be safe for
// that. Errors are classified with the package's error classes:
// ErrNotFound, ErrPermanent, RetryAfter; anything else is retried.
type Source interface {
	// ListDocuments returns one page of the patient's documents that changed
	// since cursor. The empty cursor starts from the beginning. The returned
	// Page.Cursor resumes after this page; once Page.More is false it is the
	// cursor to pass next time to list only what changed since. A page may
	// repeat items already listed (a Source may overlap pages to survive
	// clock skew); the engine ignores versions it already has.
	ListDocuments(ctx context.Context, patient Ref, cursor string) (Page, error)
	// FetchDocument returns the document with its content. ErrNotFound
	// means it was deleted.
	FetchDocument(ctx context.Context, ref Ref) (*Document, error)
	// FindPatient returns the one patient that matches q, ErrNotFound for
	// none, or ErrAmbiguous for several.
	FindPatient(ctx context.Context, q PatientQuery) (*Patient, error)
}

// Page is one page of a document listing.
type Page struct {
	Items []Item
	// Cursor resumes the listing after this page.
	Cursor string
	// More reports whether another page follows now.
	More bool
}

// Item names one listed document and the version the listing saw.
type Item struct {
	Ref       Ref
	Version   string
	UpdatedAt time.Time
	Deleted   bool
}

// PatientQuery selects a patient by any one of its fields; the first set
// field is used, in field order.
type PatientQuery struct {
	// ID is the Source's own patient id.
	ID         string
	Identifier Identifier
	Email      string
}

// PatientWriter is a Source that accepts patient edits (the seed's
// two-way update; see Engine.EditPatient). WritePatient updates the
// patient only if the Source's current version is p.Version, and returns
// the new version; another version at the Source yields ErrConflict,
// which the engine does not retry: the edit stays in conflict until
// Engine.RetryWriteBack writes it over the Source's current version.
type PatientWriter interface {
	WritePatient(ctx context.Context, p Patient) (version string, err error)
}

// DocumentRequester is a Source that accepts requests for more documents
// (a FHIR Task, a message to the practice). It returns the ref of the
// request it created, the same for every call with one r.Key (see
// Engine.RequestDocuments, and RequestTracker to follow it).
type DocumentRequester interface {
	RequestDocuments(ctx context.Context, r DocumentRequest) (Ref, error)
}

// DocumentRequest asks a provider for documents about a patient.
type DocumentRequest struct {
	Patient Ref
	// Key makes the request idempotent: the same key creates one request.
	Key string
	// What is a free-text description of what is asked for.
	What string
	// Types narrows the request to some document types; empty means any.
	Types []DocumentType
	// From and To bound the dates of the documents asked for; a zero
	// time leaves that end open.
	From, To time.Time
}

// Router is a Source whose changes may name resources that are not
// documents but that documents are made of: a FHIR Binary holding an
// attachment, an Observation a lab report lists. The engine routes a
// change of such a resource to the documents it affects instead of
// fetching it.
type Router interface {
	// Routed reports whether refs of resource type typ are routed rather
	// than fetched as documents. It must not do I/O.
	Routed(typ string) bool
	// Route returns the documents of the Source that a change of ref
	// affects. None, with a nil error, means the Source cannot place the
	// change: the engine records it as ignored.
	Route(ctx context.Context, ref Ref) ([]Ref, error)
}

// SequentialVersions is a Source whose version ids are decimal numbers
// that grow with every change of a resource (as many FHIR servers issue
// meta.versionId). Without it, versions are opaque: only equal or
// different; see CompareRevisions.
type SequentialVersions interface {
	SequentialVersions() bool
}
