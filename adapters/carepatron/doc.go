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
//
// The Sink gives Carepatron's answers the kernel's error classes, keeping
// the *carepatron.Error in the chain: 404 is connector.ErrNotFound, 409
// connector.ErrConflict, a 429 or 503 a connector.RetryAfter with the
// server's delay (a second when it did not say), a refused API key (401,
// 403) and every other refused request (4xx but 408)
// connector.ErrPermanent; 5xx answers and a Carepatron out of reach are
// retried.
package carepatron
