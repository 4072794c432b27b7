// Package fhir is a connector.Source over a Primary Healthcare Provider's
// HL7 FHIR R4 API (package provider): it finds patients, lists their
// documents incrementally and fetches them with their content, writes
// patient edits back and asks the provider for more documents.
//
//	c, err := provider.New(provider.Config{BaseURL: base, SMART: &smartCfg})
//	src, err := fhir.New(fhir.Config{Client: c, Name: "Riverside Family Practice"})
//	engine, err := connector.New(connector.Config{Sources: map[string]connector.Source{"php": src}, ...})
//
// # Documents
//
// A patient's documents are their DocumentReferences (clinical notes,
// scanned reports) and DiagnosticReports (lab panels, reports with a
// presented form). ListDocuments searches both by patient
// (patient=Patient/<id>, always the typed reference), page by page,
// following the server's next links unchanged, or, from a server that
// sends a total but no next link (paging by _offset only, or ignoring
// _count), searching on with _offset by the entries received. Pages that
// add nothing while the total says more, more than Config.MaxPages pages
// in a phase, or a cursor that would grow past a few KiB fail the
// listing, logged: a listing is never cut short silently, nor endless.
// The cursor it returns is
// opaque: it holds the largest meta.lastUpdated seen, and the next
// listing searches _lastUpdated=gt(that − Config.Overlap), so resources
// committed late or stamped by a skewed clock are not missed. Items the
// overlap lists again are recognized by (type, id, meta.versionId) and
// left out. US Core may expose one scanned report both as a
// DocumentReference and as a DiagnosticReport.presentedForm with the same
// URL; the DiagnosticReport is then not listed, so it is delivered once.
//
// FetchDocument maps a resource to a connector.Document: the type from
// its codes (Config.TypeCodes first), then US Core's categories:
//
//   - lab result: LOINC 11502-2 laboratory report, 11526-1 pathology
//     report; a DiagnosticReport of a laboratory or pathology section of
//     v2-0074 (LAB, PAT, SP, CP, CH, HM, MB, ...) or of US Core's LOINC
//     category LP29693-6 laboratory or LP7839-6 pathology;
//   - progress note: LOINC 11506-3 progress, 11488-4 consult, 18842-5
//     discharge summary, 28570-0 procedure, 34746-8 nurse note, and any
//     other US Core clinical-note;
//   - physical assessment: LOINC 34117-2 and 47039-3 history and physical,
//     29545-1 physical findings;
//   - other: anything else, imaging and cardiology reports included
//     (v2-0074 RAD, EC, ...; LOINC LP29684-5, LP29708-2; 18748-4).
//
// Then the title, clinical date, author (each author's display, else the
// name of the contained or, in at most three bounded reads, the
// referenced Practitioner, PractitionerRole or Organization), custodian
// (else Config.Name) as source, meta.versionId as version, the resource's
// JSON as Raw, and the content with its size and SHA-256. An attachment
// whose bytes do not match its hash is connector.ErrPermanent while the
// resource, read again, still states that hash; if it states another,
// the attachment changed with it between the two reads and the error is
// retryable. UpdatedAt,
// of documents, patients and listed items alike, is meta.lastUpdated, else
// the answer's Last-Modified or Date (for a listed item, its Bundle's
// time), never zero. A DiagnosticReport without a presented form gets a
// plain-text rendering of its result Observations; one whose subject is
// only a display is the patient's it was listed under, else the one
// patient its result Observations name. A resource
// entered-in-error is Deleted.
//
// Versions are opaque by default, as FHIR says of meta.versionId; set
// Config.SequentialVersions for a server whose versionIds are numbers
// that grow with every change (connector.SequentialVersions).
//
// # Changes of other resources
//
// A Source is a connector.Router: a change webhook may name a Binary (an
// attachment's content) or an Observation (a lab panel's result) rather
// than a document. Route finds the documents made of it: for a Binary the
// DocumentReferences attaching it (DocumentReference?location=, both the
// relative and the absolute URL), else the DocumentReference or
// DiagnosticReport its securityContext names; for an Observation the
// DiagnosticReports listing it (DiagnosticReport?result=Observation/<id>).
// Reports delivered as a DocumentReference are left out, as in listings.
// Any other type routes to nothing, which the engine records as ignored.
//
// # Patients and requests
//
// FindPatient reads by id or searches by identifier or email; more than
// one match is refused rather than guessed. WritePatient (the
// connector.PatientWriter ability) changes the name, email and
// identifiers in the provider's current Patient and PUTs it with If-Match
// on the version the edit was based on; a newer version at the provider
// is connector.ErrConflict. RequestDocuments (connector.DocumentRequester)
// creates a FHIR Task, conditionally on its key so a retry creates no
// second Task; TaskStatus reads its status later, and RequestStatus (the
// connector.RequestTracker ability) reads it as a request's state.
//
// # Errors
//
// Provider errors are classified for the engine: 409 and 412 are
// connector.ErrConflict, a 429 or 503 with Retry-After a
// connector.RetryAfter, other 4xx answers, refused credentials, URLs
// (or redirects) outside the FHIR base and oversized content
// connector.ErrPermanent; everything else is retried.
//
// connector.ErrNotFound means "confirmed deleted at the source", and the
// engine deletes the document at every sink on it, so only the FHIR
// server itself can say it: a read of the document (or patient) answered
// 404 or 410 with an OperationOutcome as FHIR JSON, or, when the 404 is
// not FHIR's, a history (Type/id/_history) whose newest entry is a
// DELETE. An HTML or empty 404 of a proxy, a 404 of a search, an
// attachment or any other path is retried.
package fhir
