// Package mockphp is a mock Primary Healthcare Provider (PHP): an
// in-memory HL7 FHIR R4 server with deterministic synthetic patients and
// documents, a SMART Backend Services token endpoint, a webhook emitter
// speaking three formats, and faults on demand. Tests, benchmarks and the
// demo talk to it exactly as they would to a real EHR.
//
// # Serving
//
// A Server is an http.Handler. Mount it, tell it where it lives, start the
// emitter:
//
//	srv, err := mockphp.New(mockphp.Config{Seed: 1, Patients: 50, DocsPerPatient: 10})
//	ts := httptest.NewServer(srv)
//	srv.SetPublicURL(ts.URL)
//	err = srv.Start(ctx) // notifications and document requests
//	defer srv.Close()
//
// Under the FHIR base (Config.BasePath, "/fhir/R4") it serves metadata
// (CapabilityStatement) and .well-known/smart-configuration, and Patient,
// DocumentReference, DiagnosticReport, Observation, Binary, Task and
// Subscription with read, vread, instance history, search (GET and POST
// _search), create, update (update-as-create too) and delete.
//
//   - Search understands _id, _lastUpdated (eq, ne, gt, ge, lt, le, sa, eb,
//     with the precision of the value given: gt2024-05-01 means after that
//     whole day), _count (default 50, at most 1000, 0 for the total only),
//     _sort=_lastUpdated or -_lastUpdated (default: creation order), _offset
//     (matches to skip), and per type patient/subject, identifier
//     (system|value), email, name, type, code, category, status and date;
//     DocumentReference also related (context.related) and location
//     (content.attachment.url, relative "Binary/{id}" or absolute),
//     DiagnosticReport also result. Comma-separated values are ORed,
//     repeated parameters ANDed. Unknown parameters are ignored and left out
//     of the self link, unless "Prefer: handling=strict" asks for a 400.
//   - Paging is by Bundle.link "next": absolute URLs with an opaque _page
//     keyset cursor, so pages stay stable while resources change.
//   - meta.versionId and meta.lastUpdated (UTC, milliseconds) are the
//     server's. Reads answer ETag W/"n" and Last-Modified; If-Match on
//     update and delete answers 412 when stale; If-None-Match answers 304.
//   - Binary is served raw (its own Content-Type) unless the Accept header
//     or _format asks for FHIR JSON.
//   - Errors are OperationOutcome resources; deleted resources read 410.
//
// # Server behaviours
//
// By default the server is lenient where the spec lets servers differ: a
// bare id in patient= finds the patient, versions count 1, 2, 3, pages
// link to each other. Config.Server (a ServerBehaviour) switches on,
// one by one or all with StrictAll, what real servers do instead:
// TypedReferences (a bare id matches nothing), UUIDVersions (opaque
// versionIds), OffsetPaging (no Bundle.link; page by _offset),
// IgnoreCount (a fixed page size of IgnoredCountPageSize),
// NoCapabilityStatement (metadata answers 404), RequireIfMatch (a Patient
// update without If-Match answers 428) and NoTombstones (a deleted
// resource reads 404 and has no history). A client that passes its tests
// under each of them does not depend on the lenient form.
//
// # Authentication
//
// With Config.RequireAuth, every FHIR route but metadata and the SMART
// configuration wants a bearer token from TokenPath ("/auth/token"): a
// client_credentials grant authenticated with a private_key_jwt assertion
// (RS384 or ES384) that is verified against the client's registered JWKS.
// It rejects an unknown client, a bad signature, a wrong aud, an expired
// assertion or one whose exp lies more than five minutes ahead, and a
// reused jti, each as an OAuth error ("invalid_client"). Tokens last
// Config.TokenTTL; scopes (SMART v1 "system/*.read" or v2
// "system/DocumentReference.rs") limit what a token may do. ClientKey
// makes a key pair and signs assertions for tests and demos.
//
// # Data
//
// New generates Config.Patients patients with Config.DocsPerPatient
// DocumentReferences each, from a generator seeded by Config.Seed and the
// patient's number: the same seed gives byte-identical resources
// (WriteDataSet). Patients have names, emails on example domains, 555-01xx
// phone numbers, addresses, an MRN (MRNSystem), and their medical history
// and dietary preferences in the extensions ExtMedicalHistory and
// ExtDietaryPreferences. Documents are dated over the years before
// Config.Epoch; the first is a history and physical (LOINC 34117-2), then
// progress notes (11506-3) and lab reports (11502-2). A lab report is also
// a DiagnosticReport (category LAB, a LOINC panel) with Observations (a
// valueQuantity in UCUM units, a referenceRange, an interpretation) and a
// text presentedForm; its DocumentReference points at it through
// context.related. Content is plain text a dietician reads (diet history,
// weight and BMI, plan) or a PDF, inline as attachment.data or behind a
// relative attachment.url "Binary/{id}".
//
// Changes come from HTTP writes and from CreateDocument, UpdateDocument,
// DeleteDocument, RestoreDocument (the same id again), UpdateAttachment
// (the Binary alone), CorrectObservation (a lab value alone),
// UpdatePatient and Touch (random changes that are the same for the same
// seed); the admin endpoints offer each of them. Patients, Documents, Resource and Changes show the
// state to assert on.
//
// # Notifications
//
// Subscribe registers an Endpoint; a FHIR client may instead create a
// Backport Subscription resource (channel type rest-hook). Every create,
// update and delete then notifies each endpoint, in commit order, one
// worker per endpoint, retrying non-2xx answers with exponential backoff
// (or the receiver's Retry-After) up to WebhookConfig.MaxAttempts.
//
// FormatStandardWebhooks posts a ChangeEvent signed per the Standard
// Webhooks specification: headers webhook-id (stable across retries and
// duplicates), webhook-timestamp (Unix seconds) and webhook-signature,
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for each secret,
// space-separated while secrets rotate; secrets are "whsec_<base64>"
// (NewWebhookSecret). The body:
//
//	{
//	  "type": "resource.updated",
//	  "timestamp": "2026-03-01T09:00:00.000Z",
//	  "data": {
//	    "resourceType": "DocumentReference",
//	    "id": "5815f49f-9950-4a28-9465-56599d6a85f1",
//	    "versionId": "2",
//	    "patient": "Patient/b84fb46b-9fe3-4aff-8b5a-111c601e3d1a",
//	    "lastUpdated": "2026-03-01T09:00:00.000Z"
//	  }
//	}
//
// type is resource.created, resource.updated or resource.deleted;
// data.patient is absent for resources outside a patient (Binary); an
// endpoint with PayloadFullResource also gets data.resource, the resource
// itself (not on deletes).
//
// FormatFHIRSubscription posts FHIR Subscriptions R5 Backport notifications in
// their R4 form: a history Bundle whose first entry is a Parameters
// SubscriptionStatus (subscription, topic TopicURL, status, type,
// events-since-subscription-start, and for events a notification-event with
// event-number, timestamp and focus). A handshake goes first, heartbeats
// follow HeartbeatPeriod while idle, and a full-resource payload adds the
// resource as a second entry. Endpoint.Header lines (channel.header) are
// sent with every POST.
//
// FormatMedplum posts the resource itself with X-Signature, the hex
// HMAC-SHA256 of the body keyed by the first secret; a delete carries the
// last version and X-Medplum-Deleted-Resource: Type/id.
//
// # Faults
//
// Faults (SetFaults, or PUT /admin/faults) add latency per route, 5xx, 429
// with Retry-After, held requests, responses cut mid-body,
// meta.lastUpdated skew, late commits (a change stamped older than one
// already served), and dropped, duplicated, reordered or delayed
// notifications. Each decision is a function of the seed and a counter,
// so a sequential client meets the same faults on every run. A dropped
// notification still counts in events-since-subscription-start, so a
// Backport receiver sees the gap.
//
// # Document requests
//
// A Task (status requested, intent order, for a Patient) naming LOINC
// document types in code or input is fulfilled after Config.TaskDelay: the
// server creates the documents, which notify like any change, and
// completes the Task with outputs referencing them. FulfillTasks does it
// at once.
//
// # Admin
//
// The endpoints under AdminPath ("/admin/") steer a running server from
// outside: faults, subscriptions, random changes, the change log, patients
// and pending tasks; see Server.ServeHTTP's routes in admin.go. Logs carry
// ids only, never patient data.
package mockphp
