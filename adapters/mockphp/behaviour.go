package mockphp

// IgnoredCountPageSize is the page size a server with
// ServerBehaviour.IgnoreCount uses whatever _count asks: small, so that
// clients that trust _count meet more pages than they expected.
const IgnoredCountPageSize = 3

// ServerBehaviour selects stricter ways of serving FHIR that real R4 servers
// have and the specification allows. The mock is lenient by default, and a
// client tested only against a lenient server can silently drop data on a
// real one: each field makes the mock behave as some real servers do, so
// tests catch a client that depends on the lenient form. The zero value is
// the lenient server; StrictAll turns every behaviour on.
type ServerBehaviour struct {
	// TypedReferences makes reference search parameters (patient, subject,
	// result, related) match only a typed reference, "Patient/<id>", or
	// the absolute "<base>/Patient/<id>". A bare id matches nothing: the
	// search answers 200 with an empty Bundle of total 0, not an error.
	// The spec lets a server resolve a bare id only when the parameter's
	// target type is unambiguous, and some servers never do: a client
	// sending bare ids then lists no documents and sees no error.
	TypedReferences bool
	// UUIDVersions makes meta.versionId an opaque UUID for every version
	// written, as servers backed by a document store or a cloud service do
	// (the spec only asks versionId to change with each version), instead
	// of 1, 2, 3. The UUIDs derive from the seed and a counter and do not
	// sort in update order; meta.lastUpdated still increases. ETags are
	// W/"<uuid>", vread takes the UUID, and a client that compares
	// versions as numbers or strings to find the newest one is wrong.
	UUIDVersions bool
	// OffsetPaging pages search results by _count and _offset instead of
	// next links: a searchset Bundle carries total and no Bundle.link at
	// all, not even self, as some servers built on SQL databases answer.
	// A client that follows only next links sees the first page only.
	OffsetPaging bool
	// IgnoreCount makes search ignore _count: every page holds
	// IgnoredCountPageSize entries, as servers with a fixed or capped page
	// size do (the spec lets a server return fewer than _count asks). A
	// client that takes a short page for the last one loses the rest.
	IgnoreCount bool
	// NoCapabilityStatement makes GET [base]/metadata answer 404 with an
	// OperationOutcome, as gateways in front of an EHR that expose only
	// resource routes do. A client must not need the CapabilityStatement
	// to work.
	NoCapabilityStatement bool
	// RequireIfMatch makes an update (PUT) of an existing Patient without
	// an If-Match header answer 428 Precondition Required with an
	// OperationOutcome, as servers enforcing version-aware updates do. A
	// stale If-Match answers 412 Precondition Failed on every server
	// setting; this adds the refusal of blind writes.
	RequireIfMatch bool
	// NoTombstones makes a delete leave no trace: reading the resource
	// answers 404 with an OperationOutcome (not 410 Gone), and its
	// instance history is empty while it is deleted, and starts afresh
	// when the id is created again, as servers that delete physically do.
	// A client that tells deleted from missing by 410 or by history is
	// wrong; a deletion is known from the notification or from a listing
	// that no longer names the resource.
	NoTombstones bool
}

// StrictAll returns the ServerBehaviour with every strict behaviour on.
func StrictAll() ServerBehaviour {
	return ServerBehaviour{
		TypedReferences:       true,
		UUIDVersions:          true,
		OffsetPaging:          true,
		IgnoreCount:           true,
		NoCapabilityStatement: true,
		RequireIfMatch:        true,
		NoTombstones:          true,
	}
}
