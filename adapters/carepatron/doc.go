// Package carepatron is the connector.Sink that delivers patients and
// documents to Carepatron, through the client of package
// github.com/healthcare-records/healthcare-records/carepatron.
//
// A patient becomes a contact, found by its source ref (kept as the
// contact's external reference) before it is created, and created with the
// engine's idempotency key. A document becomes a file on the contact's
// record, with its type, title, date, author, source, source version and a
// link back to the source; a new document costs one request. No ref is
// ever held twice, whatever fails when: creates carry Idempotency-Key,
// Carepatron refuses a second object with one external reference (the Sink
// then updates the first), and updates carry keys too, so an old delivery
// replayed cannot undo a newer one. See Sink.
package carepatron
