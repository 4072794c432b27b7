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
// LOINC codes (11502-2 lab report → lab result, 11506-3 progress note,
// 34117-2 history and physical → physical assessment; a DiagnosticReport
// of category LAB → lab result; Config.TypeCodes adds more; anything else
// is "other"), the title, clinical date, author, custodian (else
// Config.Name) as source, meta.versionId as version, meta.lastUpdated,
// the resource's JSON as Raw, and the content with its size and SHA-256.
// A DiagnosticReport without a presented form gets a plain-text rendering
// of its result Observations. A resource entered-in-error is Deleted.
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
// second Task; TaskStatus reads its status later.
//
// # Errors
//
// Provider errors are classified for the engine: 409 and 412 are
// connector.ErrConflict, a 429 or 503 with Retry-After a
// connector.RetryAfter, other 4xx answers, refused credentials, URLs
// outside the provider's origin and oversized content
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
